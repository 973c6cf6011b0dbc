/** The agent's public surface: what the CLI, the demo and the tests use. */
export { startAgent, type AgentOptions, type AgentHandle, type AgentExit, type AgentExitReason } from './start-agent.js';
export { loadAgentConfig, AgentConfigSchema, type AgentConfig } from './agent-config.js';
export { createAgentLogger } from './agent-logger.js';
