// rewind started the way bin/rewind.js did before the compiled build: src/ through tsx.
// bench/startup.ts runs it next to bin/rewind.js (dist/) to report the difference.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../../src/main.ts');
await main(process.argv.slice(2), process.env);
