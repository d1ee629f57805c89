// Shared state of one processing run: loaded files, the diagnostics collected so far.
import type { Diagnostic, DiagnosticCode } from './diagnostics';
import type { TypeKind } from './model';
import type { TypeDef } from './types';
import type { LinePositions, YMap } from './yaml-tree';

export interface ImportLink {
  unit: FileUnit;
  prefix?: string;
}

/** One loaded YAML file (a template, an import, or a profile). */
export interface FileUnit {
  name: string;
  lineCounter?: LinePositions;
  root?: YMap;
  imports: ImportLink[];
  /** Profiles visible from this file (normative types, then the configured profiles). */
  implicit: FileUnit[];
  types: Record<TypeKind, Map<string, TypeDef>>;
  /** Short names (Compute, tosca.nodes.Compute → Compute) — the normative profile only. */
  aliases?: Record<TypeKind, Map<string, TypeDef>>;
  isProfile: boolean;
  resolveCache: Map<string, TypeDef | null>;
}

export const TYPE_KINDS: TypeKind[] = [
  'data',
  'artifact',
  'capability',
  'interface',
  'relationship',
  'node',
  'group',
  'policy',
];

export const SECTION_OF_KIND: Record<TypeKind, string> = {
  data: 'data_types',
  artifact: 'artifact_types',
  capability: 'capability_types',
  interface: 'interface_types',
  relationship: 'relationship_types',
  node: 'node_types',
  group: 'group_types',
  policy: 'policy_types',
};

export const KIND_LABEL: Record<TypeKind, string> = {
  data: 'data type',
  artifact: 'artifact type',
  capability: 'capability type',
  interface: 'interface type',
  relationship: 'relationship type',
  node: 'node type',
  group: 'group type',
  policy: 'policy type',
};

export function emptyTypeMaps(): Record<TypeKind, Map<string, TypeDef>> {
  return {
    data: new Map(),
    artifact: new Map(),
    capability: new Map(),
    interface: new Map(),
    relationship: new Map(),
    node: new Map(),
    group: new Map(),
    policy: new Map(),
  };
}

export class Reporter {
  readonly diagnostics: Diagnostic[] = [];
  errorCount = 0;

  error(code: DiagnosticCode, unit: FileUnit | undefined, pos: number, path: string, message: string): void {
    this.add('error', code, unit, pos, path, message);
  }

  warning(
    code: DiagnosticCode,
    unit: FileUnit | undefined,
    pos: number,
    path: string,
    message: string,
  ): void {
    this.add('warning', code, unit, pos, path, message);
  }

  add(
    severity: 'error' | 'warning',
    code: DiagnosticCode,
    unit: FileUnit | undefined,
    pos: number,
    path: string,
    message: string,
  ): void {
    let line = 1;
    let column = 1;
    if (unit?.lineCounter && pos > 0) {
      const lp = unit.lineCounter.linePos(pos);
      line = Math.max(1, lp.line);
      column = Math.max(1, lp.col);
    }
    if (severity === 'error') this.errorCount++;
    this.diagnostics.push({ code, severity, message, file: unit?.name ?? '', line, column, path });
  }
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base ? `${base}.${key}` : key;
}
