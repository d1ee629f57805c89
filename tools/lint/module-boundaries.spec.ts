// Proves @nx/enforce-module-boundaries actually fires with our tags and depConstraints.
// Sources are linted in memory: the file paths only place them in a project, nothing is written.
import { execFile } from 'node:child_process';
import * as path from 'node:path';
import type { Linter } from 'eslint';

const workspaceRoot = path.resolve(__dirname, '../..');
const RULE = '@nx/enforce-module-boundaries';
const RESULT_MARKER = '@@lint-probe-result@@';

process.env.NX_DAEMON = 'false';

interface Probe {
  code: string;
  filePath: string;
}

// ESLint loads eslint.config.mjs with a dynamic import(), which Jest's module sandbox refuses
// without --experimental-vm-modules, so the ESLint Node API runs in a plain child Node
// (the same Node binary that runs Jest).
const LINT_PROBES_SCRIPT = `
const path = require('node:path');
const { ESLint } = require('eslint');
const [root, marker] = process.argv.slice(1);
const probes = JSON.parse(require('node:fs').readFileSync(0, 'utf8'));
(async () => {
  const eslint = new ESLint({ cwd: root });
  const results = [];
  for (const { code, filePath } of probes) {
    const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
    results.push(result.messages);
  }
  process.stdout.write('\\n' + marker + JSON.stringify(results) + '\\n');
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
`;

function lintProbes(probes: Probe[]): Promise<Linter.LintMessage[][]> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      ['-e', LINT_PROBES_SCRIPT, workspaceRoot, RESULT_MARKER],
      { cwd: workspaceRoot, env: { ...process.env, NX_DAEMON: 'false' }, timeout: 55_000 },
      (error, stdout, stderr) => {
        if (error) return reject(new Error(`lint probe failed: ${error.message}\n${stderr}`));
        const line = stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
        if (!line) return reject(new Error(`lint probe printed no result:\n${stdout}\n${stderr}`));
        resolve(JSON.parse(line.slice(RESULT_MARKER.length)) as Linter.LintMessage[][]);
      },
    );
    child.stdin?.end(JSON.stringify(probes));
  });
}

const probes = {
  appIntoOtherApp: {
    code: "import { bootstrap } from '../../monitor/src/main';\nexport const probe = bootstrap;\n",
    filePath: 'apps/gateway/src/lint-probe.ts',
  },
  benchInAppCode: {
    code: "import { bench } from '@stratum/testing';\nexport const probe = bench;\n",
    filePath: 'apps/gateway/src/lint-probe.ts',
  },
  contractsOnMessaging: {
    code: "import { bus } from '@stratum/persistence';\nexport const probe = bus;\n",
    filePath: 'libs/contracts/src/lint-probe.ts',
  },
  benchInAppTest: {
    code: "import { bench } from '@stratum/testing';\nexport const probe = bench;\n",
    filePath: 'apps/gateway/test/lint-probe.int-spec.ts',
  },
  appOnContracts: {
    code: "import { topics } from '@stratum/contracts';\nexport const probe = topics;\n",
    filePath: 'apps/gateway/src/lint-probe.ts',
  },
} satisfies Record<string, Probe>;

type ProbeName = keyof typeof probes;
let messagesByProbe: Record<ProbeName, Linter.LintMessage[]>;

beforeAll(async () => {
  const names = Object.keys(probes) as ProbeName[];
  const results = await lintProbes(names.map((name) => probes[name]));
  messagesByProbe = Object.fromEntries(names.map((name, i) => [name, results[i]])) as typeof messagesByProbe;
}, 60_000);

function boundaryMessages(name: ProbeName): Linter.LintMessage[] {
  const messages = messagesByProbe[name];
  // A fatal (parse/config) problem would hide the rule: fail loudly on it.
  expect(messages.filter((m) => m.fatal)).toEqual([]);
  return messages.filter((m) => m.ruleId === RULE);
}

describe('module boundaries', () => {
  it('rejects a relative import from one app into another', () => {
    const messages = boundaryMessages('appIntoOtherApp');
    expect(messages).toHaveLength(1);
    expect(messages[0].severity).toBe(2);
    expect(messages[0].messageId).toBe('noRelativeOrAbsoluteImportsAcrossLibraries');
  });

  it('rejects the test bench in an app’s production code', () => {
    const messages = boundaryMessages('benchInAppCode');
    expect(messages).toHaveLength(1);
    expect(messages[0].severity).toBe(2);
    expect(messages[0].message).toContain('"type:app"');
  });

  it('rejects contracts depending on anything but util', () => {
    const messages = boundaryMessages('contractsOnMessaging');
    expect(messages).toHaveLength(1);
    expect(messages[0].severity).toBe(2);
    expect(messages[0].message).toContain('"type:contracts"');
  });

  it('allows the test bench in an app’s tests', () => {
    expect(boundaryMessages('benchInAppTest')).toEqual([]);
  });

  it('allows an app to import contracts (control: the rule does not fire on everything)', () => {
    expect(boundaryMessages('appOnContracts')).toEqual([]);
  });
});
