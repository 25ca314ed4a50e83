/** Jest setup of the `fastify` project: the e2e suites build their apps on Fastify (see `createNestApp`). */
process.env.TEST_PLATFORM = 'fastify';
