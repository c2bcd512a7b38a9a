// wizard.js - the "New migration" wizard: Connect -> Select -> Schema -> Migrate. This is its
// entry point for the router (showWizard); each step is its own module (wizard_connect.js,
// wizard_select.js, wizard_schema.js with wizard_refusal.js, wizard_migrate.js), sharing the
// wizard's state and step switching (wizard_state.js) and its plan (wizard_plan.js). All state
// (including the Qdrant API key and the Milvus token) lives in memory only: nothing is written
// to localStorage/sessionStorage, put in a URL, or logged.

import { views, setRoot, render } from './wizard_state.js';
import { connectStep } from './wizard_connect.js';
import { selectStep } from './wizard_select.js';
import { schemaStep } from './wizard_schema.js';
import { migrateStep } from './wizard_migrate.js';

Object.assign(views, { connect: connectStep, select: selectStep, schema: schemaStep, migrate: migrateStep });

/** Mount the wizard into `el` (called by the router). */
export function showWizard(el) {
  setRoot(el);
  render();
}
