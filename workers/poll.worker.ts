// A process that runs only poll workers (scale-out: start more of these on more machines, one Redis).
import { runWorkersProcess } from '../src/runtime/run-workers';

runWorkersProcess('poll worker', { scheduler: false, dispatcher: false, pollWorkers: true, deliverWorkers: false });
