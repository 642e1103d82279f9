// The one-port server's client: the gateway comparison's one client configuration.
export { createClient } from '../greet-json-client.js';
