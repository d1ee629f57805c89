// ESLint 9 flat config for the whole workspace (type-unaware, for speed).
//
// Module boundaries are enforced on two tag axes (see shared STYLE.md):
//   scope:<service>|platform|shared  — a service never imports another service
//   type:app|feature|data-access|contracts|util|testing — layering
// Tags live in each project's project.json.
import nxDevkit from '@nx/devkit';
import nxPlugin from '@nx/eslint-plugin';
import prettier from 'eslint-config-prettier';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

// @nx/enforce-module-boundaries reads only the *cached* project graph and silently skips
// itself when there is none (fresh clone) or lints against a stale one (new project.json).
// Refresh it here so plain `eslint` is trustworthy; inside an Nx task the graph was
// computed just before the task ran.
if (!process.env.NX_TASK_TARGET_PROJECT) {
  await nxDevkit.createProjectGraphAsync({ exitOnError: false });
}

const SERVICES = [
  'gateway',
  'resource-manager',
  'orchestrator',
  'autoscaler',
  'log-shipper',
  'monitor',
  'image-sync',
];

const TEST_FILES = ['**/*.spec.ts', '**/*.int-spec.ts', '**/test/**/*.ts'];

const scopeConstraints = [
  { sourceTag: 'scope:shared', onlyDependOnLibsWithTags: ['scope:shared'] },
  ...SERVICES.map((service) => ({
    sourceTag: `scope:${service}`,
    onlyDependOnLibsWithTags: [`scope:${service}`, 'scope:shared'],
  })),
  { sourceTag: 'scope:platform', onlyDependOnLibsWithTags: ['scope:shared'] },
];

const typeLayers = {
  'type:app': ['type:feature', 'type:data-access', 'type:contracts', 'type:util'],
  'type:feature': ['type:feature', 'type:data-access', 'type:contracts', 'type:util'],
  'type:data-access': ['type:data-access', 'type:contracts', 'type:util'],
  // Contracts depend on nothing but util.
  'type:contracts': ['type:util'],
  'type:util': ['type:util'],
  'type:testing': ['type:feature', 'type:data-access', 'type:contracts', 'type:util', 'type:testing'],
};

/** @param {boolean} forTests tests of every type may also use the test bench (type:testing). */
function boundaries(forTests) {
  const typeConstraints = Object.entries(typeLayers).map(([sourceTag, allowed]) => ({
    sourceTag,
    onlyDependOnLibsWithTags:
      forTests && !allowed.includes('type:testing') ? [...allowed, 'type:testing'] : allowed,
  }));
  return [
    'error',
    {
      enforceBuildableLibDependency: false,
      allow: [],
      // libs/testing depends on the libraries it launches, and their specs import it back:
      // a project cycle through the test bench only. Production code cannot import
      // type:testing (constraints above), so any cycle through it comes from tests.
      ignoredCircularDependencies: [['tag:type:testing', '*']],
      depConstraints: [...scopeConstraints, ...typeConstraints],
    },
  ];
}

export default defineConfig(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/tmp/**',
      '**/.nx/**',
      '**/.cache/**',
      'tools/bench-bin/**',
      '**/lint-fixtures/**',
      // root-level JS config files, except this one
      '*.js',
      '*.cjs',
      '*.mjs',
      '!eslint.config.mjs',
    ],
  },
  nxPlugin.configs['flat/base'],
  tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@nx/enforce-module-boundaries': boundaries(false),
      '@typescript-eslint/no-explicit-any': 'warn',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    files: TEST_FILES,
    rules: {
      '@nx/enforce-module-boundaries': boundaries(true),
    },
  },
  {
    // Services log through the telemetry logger; the all-in-one launcher, tools and tests may print.
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['apps/all-in-one/**', ...TEST_FILES],
    rules: {
      'no-console': 'error',
    },
  },
  prettier,
);
