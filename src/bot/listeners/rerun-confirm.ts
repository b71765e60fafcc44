import type { App } from '@slack/bolt';
import { ACTION_IDS } from '../../report/actions.ts';
import type { BotDeps } from '../deps.ts';
import { rerunListener } from './rerun.ts';

/** `heal_rerun_confirm`: "Rerun anyway" on the ephemeral confirmation; the approver check runs again. */
export function registerRerunConfirm(app: App, deps: BotDeps): void {
  app.action(ACTION_IDS.rerunConfirm, rerunListener(deps));
}
