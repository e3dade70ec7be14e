// npm run test:deploy: the image and the compose stack, built and run with podman (not part of npm test).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json', diagnostics: false }] },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['<rootDir>/test/deploy/**/*.test.ts'],
  testTimeout: 600_000,
};
