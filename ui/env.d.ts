// Vite bundles the stylesheet imported by main.ts: to TypeScript it is a module with no exports.
declare module '*.css';
