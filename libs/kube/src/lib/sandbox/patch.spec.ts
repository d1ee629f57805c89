import { builtInSchema } from './field-schema';
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from './patch';

describe('patch documents', () => {
  it('merge patch: objects merge, null deletes, lists are replaced', () => {
    expect(mergePatch({ a: 1, b: { c: 2, d: 3 }, l: [1, 2] }, { b: { c: null, e: 4 }, l: [3] })).toEqual({
      a: 1,
      b: { d: 3, e: 4 },
      l: [3],
    });
  });

  it('JSON patch: add, remove, replace, move, copy, test', () => {
    const doc = { a: { b: [1, 2] }, c: 'x' };
    expect(
      jsonPatch(doc, [
        { op: 'add', path: '/a/b/-', value: 3 },
        { op: 'remove', path: '/a/b/0' },
        { op: 'replace', path: '/c', value: 'y' },
        { op: 'copy', from: '/c', path: '/d' },
        { op: 'move', from: '/d', path: '/e' },
        { op: 'test', path: '/e', value: 'y' },
      ]),
    ).toEqual({ a: { b: [2, 3] }, c: 'y', e: 'y' });
    expect(doc).toEqual({ a: { b: [1, 2] }, c: 'x' });
    expect(() => jsonPatch(doc, [{ op: 'test', path: '/c', value: 'z' }])).toThrow(PatchError);
    expect(() => jsonPatch(doc, [{ op: 'replace', path: '/missing', value: 1 }])).toThrow(PatchError);
  });

  it('strategic merge patch: containers by name, ports by containerPort, finalizers as a set, directives', () => {
    const schema = builtInSchema('/pods');
    const pod = {
      metadata: { finalizers: ['a'] },
      spec: {
        containers: [
          { name: 'app', image: 'x:1', ports: [{ containerPort: 80, name: 'http' }] },
          { name: 'side', image: 'y:1' },
        ],
        tolerations: [{ key: 'k', operator: 'Exists' }],
      },
    };
    const patched = strategicMergePatch(
      pod,
      {
        metadata: { finalizers: ['b'] },
        spec: {
          containers: [
            { name: 'app', image: 'x:2', ports: [{ containerPort: 80, protocol: 'TCP' }] },
            { name: 'side', $patch: 'delete' },
          ],
          tolerations: [{ key: 'other', operator: 'Exists' }],
          '$setElementOrder/containers': [{ name: 'app' }],
        },
      },
      schema,
    );
    expect(patched).toEqual({
      metadata: { finalizers: ['a', 'b'] },
      spec: {
        containers: [
          { name: 'app', image: 'x:2', ports: [{ containerPort: 80, name: 'http', protocol: 'TCP' }] },
        ],
        tolerations: [{ key: 'other', operator: 'Exists' }],
      },
    });
  });
});
