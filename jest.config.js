// Tiers, each runnable alone (jest --selectProjects unit|integration|fuzz|browser|e2e).
/** @type {import('jest').Config} */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] };
const common = { testEnvironment: 'node', testEnvironmentOptions: { globalsCleanup: 'off' }, transform, moduleFileExtensions: ['ts', 'js', 'json'] };

module.exports = {
  // A Redis where the tests look for one: started when none answers (a fresh machine), stopped after.
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  transform,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { ...common, displayName: 'integration', testMatch: ['<rootDir>/test/integration/**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/support/timeout-60s.ts'] },
    { ...common, displayName: 'fuzz', testMatch: ['<rootDir>/test/fuzz/**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/support/timeout-120s.ts'] },
    { ...common, displayName: 'browser', testMatch: ['<rootDir>/test/browser/**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/support/timeout-120s.ts'] },
    { ...common, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'], setupFilesAfterEnv: ['<rootDir>/test/support/timeout-120s.ts'] },
  ],
};
