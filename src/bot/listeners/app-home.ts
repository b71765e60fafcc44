import type { App } from '@slack/bolt';
import { errorMessage } from '../../core/errors.ts';
import { listIncidents } from '../../jobs/views.ts';
import { renderHome } from '../../report/views.ts';
import type { BotDeps } from '../deps.ts';

/** The App Home tab: open and recent incidents, published with `views.publish` when a user opens it. */
export async function publishHome(deps: BotDeps, user: string): Promise<void> {
  const [open, recent] = await Promise.all([
    listIncidents(deps.incidents, 'open', 20),
    listIncidents(deps.incidents, 'all', 20),
  ]);
  await deps.slack.publishHome(user, renderHome(open, recent));
}

/** `app_home_opened` (Home tab only). */
export function registerAppHome(app: App, deps: BotDeps): void {
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    await publishHome(deps, event.user).catch((err) =>
      deps.log.error({ err: errorMessage(err), user: event.user }, 'App Home not published'),
    );
  });
}
