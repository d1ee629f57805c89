// Reading the entry file and its imports (TOSCA 1.3 §3.5.8 import definitions, chapter 4 CSAR),
// each file once (import cycles are harmless), and the profiles loaded implicitly into every
// template (the normative types, then the configured profiles), parsed once per process.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { emptyTypeMaps, type FileUnit, joinPath, Reporter } from './context';
import { readCsar, isZip, type CsarArchive } from './csar';
import type { Diagnostic } from './diagnostics';
import { normalizePath, resolveRelative, type ToscaSource } from './source';
import { buildAliases, checkKeys, expectMap, expectSeq, registerTypes } from './types';
import { parseYaml, type YNode } from './yaml-tree';
import { validateTypes } from './validate-types';

export const NORMATIVE_PROFILE = 'tosca-normative-1.3.yaml';
const PROFILES_DIR = path.join(__dirname, '..', 'profiles');

/** A profile: a TOSCA types file loaded implicitly. A string names a file bundled in src/profiles. */
export type ProfileSpec = string | { name: string; text: string };

const TOP_LEVEL_KEYS = new Set([
  'tosca_definitions_version',
  'namespace',
  'metadata',
  'description',
  'dsl_definitions',
  'repositories',
  'imports',
  'artifact_types',
  'data_types',
  'capability_types',
  'interface_types',
  'relationship_types',
  'node_types',
  'group_types',
  'policy_types',
  'topology_template',
]);
const IMPORT_KEYS = new Set(['file', 'repository', 'namespace_prefix', 'namespace_uri']);
const ACCEPTED_VERSION = 'tosca_simple_yaml_1_3';
const OLDER_VERSIONS = new Set(['tosca_simple_yaml_1_0', 'tosca_simple_yaml_1_1', 'tosca_simple_yaml_1_2']);

function newUnit(name: string, isProfile: boolean, implicit: FileUnit[]): FileUnit {
  return { name, imports: [], implicit, types: emptyTypeMaps(), isProfile, resolveCache: new Map() };
}

/** Parses the YAML of a unit and checks the document shape, version and top-level keys. */
function parseUnit(r: Reporter, unit: FileUnit, text: string): void {
  const parsed = parseYaml(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  unit.lineCounter = parsed.lineCounter;
  for (const p of parsed.problems) r.error(p.code, unit, p.pos, '', p.message);
  if (parsed.problems.some((p) => p.fatal)) return;
  const root = parsed.root;
  if (!root || root.kind !== 'map') {
    r.error(
      'TOSCA_NOT_A_MAPPING',
      unit,
      root?.pos ?? 0,
      '',
      'a TOSCA file must be a YAML mapping (tosca_definitions_version: ..., ...)',
    );
    return;
  }
  unit.root = root;
  checkKeys(r, unit, root, TOP_LEVEL_KEYS, '', 'a service template');
  const version = root.byKey.get('tosca_definitions_version');
  if (!version) {
    r.error(
      'TOSCA_VERSION',
      unit,
      root.pos,
      'tosca_definitions_version',
      `tosca_definitions_version is missing; use ${ACCEPTED_VERSION}`,
    );
  } else {
    const v = version.value.kind === 'scalar' ? String(version.value.value) : '';
    if (OLDER_VERSIONS.has(v)) {
      r.warning(
        'TOSCA_VERSION',
        unit,
        version.value.pos,
        'tosca_definitions_version',
        `${v} is processed as ${ACCEPTED_VERSION}`,
      );
    } else if (v !== ACCEPTED_VERSION) {
      r.error(
        'TOSCA_VERSION',
        unit,
        version.value.pos,
        'tosca_definitions_version',
        `unsupported tosca_definitions_version '${v}'; use ${ACCEPTED_VERSION}`,
      );
    }
  }
  registerTypes(r, unit);
}

// ---- profiles (cached per process) ----

interface LoadedProfiles {
  units: FileUnit[];
  diagnostics: Diagnostic[];
}
const profileUnitCache = new Map<string, { unit: FileUnit; diagnostics: Diagnostic[] }>();

function profileText(spec: ProfileSpec): { name: string; text: string } {
  if (typeof spec !== 'string') return spec;
  return { name: spec, text: readFileSync(path.join(PROFILES_DIR, path.basename(spec)), 'utf8') };
}

export function loadProfiles(specs: ProfileSpec[]): LoadedProfiles {
  const units: FileUnit[] = [];
  const diagnostics: Diagnostic[] = [];
  let key = '';
  for (const spec of [NORMATIVE_PROFILE as ProfileSpec, ...specs]) {
    const id = typeof spec === 'string' ? spec : `${spec.name}\0${spec.text}`;
    key += `${id}\n`;
    let entry = profileUnitCache.get(key);
    if (!entry) {
      const r = new Reporter();
      let unit: FileUnit;
      try {
        const { name, text } = profileText(spec);
        unit = newUnit(name, true, [...units]);
        parseUnit(r, unit, text);
      } catch (e) {
        unit = newUnit(typeof spec === 'string' ? spec : spec.name, true, [...units]);
        r.error('TOSCA_IMPORT_NOT_FOUND', unit, 0, '', `profile cannot be read: ${(e as Error).message}`);
      }
      if (units.length === 0) buildAliases(unit);
      validateTypes(r, [unit]);
      entry = { unit, diagnostics: r.diagnostics };
      profileUnitCache.set(key, entry);
    }
    units.push(entry.unit);
    diagnostics.push(...entry.diagnostics);
  }
  return { units, diagnostics };
}

// ---- template files ----

export class Loader {
  readonly units = new Map<string, FileUnit>();
  private readonly archives = new Map<string, CsarArchive | undefined>();

  constructor(
    private readonly r: Reporter,
    private readonly source: ToscaSource,
    private readonly profiles: FileUnit[],
  ) {}

  /** Loads the entry file (a YAML template or a CSAR) and everything it imports. */
  async loadEntry(entry: string): Promise<FileUnit | undefined> {
    return this.load(normalizePath(entry));
  }

  private async readBytes(file: string): Promise<string | Buffer | undefined> {
    const bang = file.indexOf('!/');
    if (bang < 0) return this.source.readFile(file);
    const archive = await this.archive(file.slice(0, bang));
    return archive?.files.get(file.slice(bang + 2));
  }

  private async archive(file: string): Promise<CsarArchive | undefined> {
    if (!this.archives.has(file)) {
      const content = await this.readBytes(file);
      this.archives.set(
        file,
        content === undefined
          ? undefined
          : readCsar(Buffer.isBuffer(content) ? content : Buffer.from(content, 'binary')),
      );
    }
    return this.archives.get(file);
  }

  private async load(
    file: string,
    from?: { unit: FileUnit; node: YNode; path: string },
  ): Promise<FileUnit | undefined> {
    const existing = this.units.get(file);
    if (existing) return existing;
    let content: string | Buffer | undefined;
    try {
      content = await this.readBytes(file);
    } catch (e) {
      content = undefined;
      this.r.error(
        'TOSCA_IMPORT_NOT_FOUND',
        from?.unit ?? newUnit(file, false, []),
        from?.node.pos ?? 0,
        from?.path ?? '',
        `cannot read '${file}': ${(e as Error).message}`,
      );
      return undefined;
    }
    if (content === undefined) {
      this.r.error(
        'TOSCA_IMPORT_NOT_FOUND',
        from?.unit ?? newUnit(file, false, []),
        from?.node.pos ?? 0,
        from?.path ?? '',
        from ? `imported file '${file}' not found` : `template file '${file}' not found`,
      );
      return undefined;
    }
    const looksZip = Buffer.isBuffer(content) ? isZip(content) : false;
    if (looksZip || /\.(csar|zip)$/i.test(file)) {
      const archive = await this.archive(file);
      if (!archive || archive.problems.length || !archive.entry) {
        const problems = archive?.problems.join('; ') || 'unreadable archive';
        this.r.error(
          'TOSCA_CSAR',
          from?.unit ?? newUnit(file, false, []),
          from?.node.pos ?? 0,
          from?.path ?? '',
          `CSAR '${file}': ${problems}`,
        );
        if (!archive?.entry) return undefined;
      }
      return this.load(`${file}!/${archive.entry}`, from);
    }
    const unit = newUnit(file, false, this.profiles);
    this.units.set(file, unit);
    parseUnit(this.r, unit, Buffer.isBuffer(content) ? content.toString('utf8') : content);
    await this.loadImports(unit);
    return unit;
  }

  private async loadImports(unit: FileUnit): Promise<void> {
    const root = unit.root;
    const importsNode = root?.byKey.get('imports')?.value;
    const seq = root ? expectSeq(this.r, unit, importsNode, 'imports', 'imports') : undefined;
    if (!seq) return;
    const repositories = expectMap(
      this.r,
      unit,
      root?.byKey.get('repositories')?.value,
      'repositories',
      'repositories',
    );
    for (const [i, item] of seq.items.entries()) {
      const ipath = joinPath('imports', i);
      let fileNode: YNode | undefined;
      let repository: YNode | undefined;
      let prefix: string | undefined;
      if (item.kind === 'scalar') fileNode = item;
      else if (item.kind === 'map' && item.byKey.has('file')) {
        checkKeys(this.r, unit, item, IMPORT_KEYS, ipath, 'an import definition');
        fileNode = item.byKey.get('file')?.value;
        repository = item.byKey.get('repository')?.value;
        const p = item.byKey.get('namespace_prefix')?.value;
        if (p) {
          if (p.kind === 'scalar' && typeof p.value === 'string' && /^[A-Za-z_][\w.-]*$/.test(p.value))
            prefix = p.value;
          else
            this.r.error(
              'TOSCA_IMPORT_INVALID',
              unit,
              p.pos,
              joinPath(ipath, 'namespace_prefix'),
              'namespace_prefix must be a name',
            );
        }
      } else if (item.kind === 'map' && item.entries.length === 1) {
        // 1.0-style named import: - name: file | - name: { file: ... }
        const v = item.entries[0].value;
        fileNode = v.kind === 'map' ? v.byKey.get('file')?.value : v;
        if (v.kind === 'map') {
          repository = v.byKey.get('repository')?.value;
          const p = v.byKey.get('namespace_prefix')?.value;
          if (p?.kind === 'scalar' && typeof p.value === 'string') prefix = p.value;
        }
      }
      if (!fileNode || fileNode.kind !== 'scalar' || typeof fileNode.value !== 'string' || !fileNode.value) {
        this.r.error(
          'TOSCA_IMPORT_INVALID',
          unit,
          (fileNode ?? item).pos,
          ipath,
          'an import needs a file: a path, a URL, or { file, repository, namespace_prefix }',
        );
        continue;
      }
      const fileText = fileNode.value;
      if (this.profiles.some((p) => path.posix.basename(p.name) === path.posix.basename(fileText))) continue;
      let target: string;
      if (repository) {
        const repoName = repository.kind === 'scalar' ? String(repository.value) : '';
        const repo = repositories?.byKey.get(repoName)?.value;
        const url = repo?.kind === 'map' ? repo.byKey.get('url')?.value : repo;
        if (!url || url.kind !== 'scalar' || typeof url.value !== 'string') {
          this.r.error(
            'TOSCA_IMPORT_INVALID',
            unit,
            repository.pos,
            joinPath(ipath, 'repository'),
            `unknown repository '${repoName}'`,
          );
          continue;
        }
        const base = url.value.replace(/^file:\/\//, '');
        target = /^[a-z][a-z0-9+.-]*:\/\//i.test(base)
          ? `${base.replace(/\/$/, '')}/${fileText}`
          : resolveRelative(unit.name, path.posix.join(base, fileText));
      } else if (/^[a-z][a-z0-9+.-]*:\/\//i.test(fileText)) target = fileText;
      else target = resolveRelative(unit.name, fileText);
      const imported = await this.load(target, {
        unit,
        node: fileNode,
        path: joinPath(ipath, item.kind === 'scalar' ? '' : 'file').replace(/\.$/, ''),
      });
      if (imported) unit.imports.push({ unit: imported, prefix });
    }
  }
}
