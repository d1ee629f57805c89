// A minimal reader of CSAR archives (TOSCA 1.3 chapter 4): a ZIP file read through its central
// directory. Only the "stored" and "deflate" methods are supported, which is what every common
// archiver writes; anything else is reported, never thrown.
import { crc32, deflateRawSync, inflateRawSync } from 'node:zlib';

export interface CsarArchive {
  files: Map<string, Buffer>;
  /** Path of the entry definitions inside the archive. */
  entry?: string;
  problems: string[];
}

const EOCD = 0x06054b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export function isZip(content: Buffer): boolean {
  return content.length >= 4 && content.readUInt32LE(0) === LOCAL;
}

export function readZip(buf: Buffer): { files: Map<string, Buffer>; problems: string[] } {
  const files = new Map<string, Buffer>();
  const problems: string[] = [];
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return { files, problems: ['not a ZIP archive (no end of central directory record)'] };
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== CENTRAL) {
      problems.push('corrupt ZIP central directory');
      break;
    }
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (name.endsWith('/')) continue;
    if (flags & 1) {
      problems.push(`${name}: encrypted entries are not supported`);
      continue;
    }
    if (localOffset + 30 > buf.length || buf.readUInt32LE(localOffset) !== LOCAL) {
      problems.push(`${name}: corrupt local header`);
      continue;
    }
    const start = localOffset + 30 + buf.readUInt16LE(localOffset + 26) + buf.readUInt16LE(localOffset + 28);
    const data = buf.subarray(start, start + compressedSize);
    if (data.length !== compressedSize) {
      problems.push(`${name}: truncated data`);
      continue;
    }
    if (method === 0) files.set(name, data);
    else if (method === 8) {
      try {
        files.set(name, inflateRawSync(data, { maxOutputLength: Math.max(size, 1) }));
      } catch (e) {
        problems.push(`${name}: cannot inflate (${(e as Error).message})`);
      }
    } else problems.push(`${name}: compression method ${method} is not supported (only stored and deflate)`);
  }
  return { files, problems };
}

/** Reads a CSAR and finds its entry definitions (TOSCA.meta Entry-Definitions, else the single root YAML). */
export function readCsar(buf: Buffer): CsarArchive {
  const { files, problems } = readZip(buf);
  if (problems.length && files.size === 0) return { files, problems };
  const meta = files.get('TOSCA-Metadata/TOSCA.meta');
  if (meta) {
    const match = /^Entry-Definitions:\s*(.+?)\s*$/m.exec(meta.toString('utf8'));
    if (!match)
      return { files, problems: [...problems, 'TOSCA-Metadata/TOSCA.meta has no Entry-Definitions'] };
    const entry = match[1];
    if (!files.has(entry))
      return { files, problems: [...problems, `Entry-Definitions ${entry} is not in the archive`] };
    return { files, entry, problems };
  }
  const roots = [...files.keys()].filter((f) => !f.includes('/') && /\.ya?ml$/i.test(f));
  if (roots.length !== 1) {
    return {
      files,
      problems: [
        ...problems,
        `no TOSCA-Metadata/TOSCA.meta and ${roots.length === 0 ? 'no' : 'more than one'} YAML file at the archive root`,
      ],
    };
  }
  return { files, entry: roots[0], problems };
}

/** Builds a ZIP (stored or deflated entries) — used by tests and tools to package a CSAR. */
export function writeZip(files: Record<string, string | Buffer>, deflate = true): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const stored = deflate ? deflateRawSync(data) : data;
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(LOCAL, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(stored.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(CENTRAL, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(stored.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBuf, stored);
    centrals.push(central, nameBuf);
    offset += 30 + nameBuf.length + stored.length;
  }
  const centralSize = centrals.reduce((n, b) => n + b.length, 0);
  const eocd = Buffer.alloc(22);
  eocd.writeUInt32LE(EOCD, 0);
  eocd.writeUInt16LE(Object.keys(files).length, 8);
  eocd.writeUInt16LE(Object.keys(files).length, 10);
  eocd.writeUInt32LE(centralSize, 12);
  eocd.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, eocd]);
}
