// A process that runs only delivery workers (scale-out: start more of these on more machines, one Redis).
import { runWorkersProcess } from '../src/runtime/run-workers';

runWorkersProcess('deliver worker', { scheduler: false, dispatcher: false, pollWorkers: false, deliverWorkers: true });
