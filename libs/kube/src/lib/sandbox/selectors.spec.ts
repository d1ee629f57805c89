import { ApiError } from './api-status';
import {
  formatLabelSelector,
  fromLabelSelectorObject,
  matchesFields,
  matchesLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors';

describe('label and field selectors', () => {
  const labels = { app: 'web', tier: 'front', env: 'prod' };

  it.each([
    ['app=web', true],
    ['app==web,tier=front', true],
    ['app!=web', false],
    ['missing!=x', true],
    ['tier in (front, back)', true],
    ['env notin (prod)', false],
    ['env', true],
    ['!env', false],
    ['!missing', true],
    ['', true],
  ])('%s matches: %s', (selector, expected) => {
    expect(matchesLabels(parseLabelSelector(selector), labels)).toBe(expected);
  });

  it('refuses malformed selectors with 400', () => {
    expect(() => parseLabelSelector('a=(b')).toThrow(ApiError);
    expect(() => parseFieldSelector('spec.unknown=1', '/pods')).toThrow(
      'field label not supported: spec.unknown',
    );
  });

  it('turns LabelSelector objects into requirements and the Scale string form', () => {
    const selector = fromLabelSelectorObject({
      matchLabels: { b: '2', a: '1' },
      matchExpressions: [
        { key: 'zone', operator: 'In', values: ['y', 'x'] },
        { key: 'gpu', operator: 'DoesNotExist' },
      ],
    });
    expect(formatLabelSelector(selector ?? [])).toBe('a=1,b=2,zone in (x,y),!gpu');
    expect(fromLabelSelectorObject(undefined)).toBeUndefined();
  });

  it('matches the field labels each kind supports', () => {
    const pod = {
      metadata: { name: 'p', namespace: 'n' },
      spec: { nodeName: 'node-1' },
      status: { phase: 'Running' },
    };
    expect(
      matchesFields(parseFieldSelector('spec.nodeName=node-1,status.phase!=Pending', '/pods'), pod, '/pods'),
    ).toBe(true);
    expect(matchesFields(parseFieldSelector('metadata.name=q', '/pods'), pod, '/pods')).toBe(false);
  });
});
