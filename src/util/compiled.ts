// Whether this code runs compiled (dist/, the package, the image) or as TypeScript under ts-jest: a worker thread
// needs JavaScript to start, so features that run code in threads stay on the calling thread when it is not.
export function runsCompiled(): boolean {
  return __filename.endsWith('.js');
}
