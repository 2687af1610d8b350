/** flowscribe.openCatalogEntry: opens the flow's entry in flows.yaml. */
import * as vscode from 'vscode';
import { openLocation } from '../common/locations';
import type { Services } from '../services';
import type { FlowArg } from './flowArg';
import { resolveFlow } from './flowArg';

export async function openCatalogEntry(s: Services, arg?: FlowArg): Promise<void> {
  const flow = await resolveFlow(s, arg, 'Flow whose catalog entry to open');
  if (!flow) {
    return;
  }
  if (!flow.catalog || !(await openLocation(flow.catalog, false))) {
    void vscode.window.showInformationMessage(`Flow ${flow.id} has no entry in the catalog (flows.yaml).`);
  }
}
