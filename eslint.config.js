import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['.tmp/', 'dist/', 'node_modules/', 'policies/build/', 'test/fixtures/', 'coverage/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  {
    files: ['scripts/**', 'bench/**', 'test/**', 'src/main.ts', 'bin/**'],
    rules: { 'no-console': 'off' },
  },
);
