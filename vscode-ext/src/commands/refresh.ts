/** flowscribe.refresh: re-reads flows and runs from the server (the views also follow its notifications). */
import type { Services } from '../services';

export async function refresh(s: Services): Promise<void> {
  if (s.server.state === 'stopped') {
    await s.server.start();
  }
  await s.data.refresh();
  s.events.refreshOpen();
}
