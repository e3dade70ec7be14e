// ESLint: typescript-eslint with type information, so floating promises are errors (house style rule 8).
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/fixtures/**', 'scripts/**', 'bin/**', '*.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { project: './tsconfig.json', tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      // Prettier's print width, for what Prettier does not break (strings, comments): no line is read sideways.
      'max-len': ['error', { code: 160 }],
    },
  },
  // The dashboard's browser code has its own tsconfig (DOM types, bundler resolution).
  { files: ['ui/**/*.ts'], languageOptions: { parserOptions: { project: './ui/tsconfig.json', tsconfigRootDir: __dirname } } },
  // Plain Node scripts that run inside the deploy test's containers (CommonJS, no build step).
  {
    files: ['deploy/**/*.js'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', process: 'readonly', Buffer: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  // Functions a reader can hold: at most 60 lines in the product's code. Two are tables, justified and named here:
  // the provider conformance suite is a flat list of named checks, the dashboard's routes a list of routes.
  { files: ['src/**/*.ts', 'workers/**/*.ts'], rules: { 'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }] } },
  { files: ['src/conformance/provider.ts', 'src/api/dashboard/routes.ts'], rules: { 'max-lines-per-function': 'off' } },
  // Tests read JSON answers of real servers: `any` there saves casts without hiding product types.
  { files: ['test/**/*.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
