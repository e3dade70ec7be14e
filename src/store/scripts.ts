// The Lua commands of src/store/commands, one typed method each (BullMQ's Scripts class is the model): one object
// per Redis connection, made in the composition root and handed to every store. Each method builds its script's
// KEYS and ARGV in the order the script names them at its top; a negative return code becomes a typed error there
// and nowhere else. The wrappers live one group per file (tracks, outbox, alerts), stacked into this one class so
// that a caller holds one Scripts whatever it calls.
import { AlertScripts } from './alert-scripts';

export { ScriptErrorCode } from './script-caller';
export type { CasTransition, DeliveryFields, FoundRun, StuckNote } from './script-args';

export class Scripts extends AlertScripts {}
