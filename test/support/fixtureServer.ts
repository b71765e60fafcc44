export * from '../../src/cli/fixture-server.ts';
