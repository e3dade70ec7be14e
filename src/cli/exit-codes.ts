// Exit codes of the steprun-watch command: the error catalogue's (src/model/error-catalogue.ts), documented in the README.
export { EXIT, exitCodeFor } from '../model/error-catalogue';
