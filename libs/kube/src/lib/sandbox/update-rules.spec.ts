import type { StoredObject } from './object-meta';
import { sameContent } from './update-rules';

/** The no-op rule of every sandbox write: equal apart from resourceVersion and managers' times. */
describe('sandbox update rules: sameContent', () => {
  const endpoints = (time: string, fields: Record<string, unknown>, ip = '192.0.2.10'): StoredObject => ({
    apiVersion: 'v1',
    kind: 'Endpoints',
    metadata: {
      name: 'nfs',
      namespace: 'ns',
      resourceVersion: '330',
      managedFields: [
        {
          manager: 'other',
          operation: 'Update',
          apiVersion: 'v1',
          time: '2026-12-03T10:00:00Z',
          fieldsType: 'FieldsV1',
          fieldsV1: { 'f:metadata': {} },
        },
        {
          manager: 'stratum',
          operation: 'Apply',
          apiVersion: 'v1',
          time,
          fieldsType: 'FieldsV1',
          fieldsV1: fields,
        },
      ],
    },
    subsets: [{ addresses: [{ ip }], ports: [{ name: 'nfs', port: 2049, protocol: 'TCP' }] }],
  });

  it('a re-apply that changed nothing but its manager timestamp (it crossed a second) is a no-op', () => {
    const before = endpoints('2026-12-03T10:00:00Z', { 'f:subsets': {} });
    const after = { ...endpoints('2026-12-03T10:00:01Z', { 'f:subsets': {} }) };
    after.metadata.resourceVersion = '331';
    expect(sameContent(before, after)).toBe(true);
  });

  it('a change of the fields a manager owns is a change, whatever the time', () => {
    const before = endpoints('2026-12-03T10:00:00Z', { 'f:subsets': {} });
    const after = endpoints('2026-12-03T10:00:00Z', { 'f:subsets': {}, 'f:metadata': {} });
    expect(sameContent(before, after)).toBe(false);
  });

  it('a change of the object is a change', () => {
    const before = endpoints('2026-12-03T10:00:00Z', { 'f:subsets': {} });
    const after = endpoints('2026-12-03T10:00:00Z', { 'f:subsets': {} }, '192.0.2.11');
    expect(sameContent(before, after)).toBe(false);
  });
});
