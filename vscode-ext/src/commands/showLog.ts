/** flowscribe.showLog: shows the "flowscribe" output channel. */
import { log } from '../common/log';

export function showLog(): Promise<void> {
  log.show();
  return Promise.resolve();
}
