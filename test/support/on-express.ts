/** Jest setup of the `express` project: the e2e suites build their apps on Express (see `createNestApp`). */
process.env.TEST_PLATFORM = 'express';
