import { PREBUILT_BUNDLE_PATH, writeWorkflowBundle } from './workflow-code';

// Part of `npm run build`: bundles the workflow code once instead of at every worker start.
writeWorkflowBundle().then(
  () => console.log(`workflow bundle written to ${PREBUILT_BUNDLE_PATH}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
