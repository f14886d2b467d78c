/** The renderer's entry: mounts the app into `#app` (index.html). */
import { mount } from 'svelte';
import App from './App.svelte';

const target = document.getElementById('app');
if (target === null) throw new Error('index.html has no element with id "app" to mount Tessera into');

export default mount(App, { target });
