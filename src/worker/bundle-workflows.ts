import { PREBUILT_BUNDLE_PATH, writeWorkflowBundle } from './workflow-code';

writeWorkflowBundle().then(
  () => console.log(`workflow bundle written to ${PREBUILT_BUNDLE_PATH}`),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
