// A custom interface (fixtures/extensions-endpoints/extensions/interfaces/rectus-stars, built as the
// rc.83 extension SDK builds one) in the rc.83 admin app served by Rectus, in headless Chromium:
// after login the app has loaded the interface bundle and the interface's own module; the module,
// imported in the page, renders with the app's own Vue. Started by tests/browser.rs; prints one
// JSON line: the extension requests the app made, what rendered, and the page's errors.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, CHROMIUM.
import puppeteer from 'puppeteer-core';

const base = process.env.BASE_URL;
const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
	const page = await browser.newPage();
	const requests = [];
	page.on('response', (r) => {
		if (new URL(r.url()).pathname.startsWith('/extensions/')) requests.push(`${r.status()} ${new URL(r.url()).pathname}`);
	});
	const errors = [];
	page.on('pageerror', (e) => errors.push(String(e)));
	await page.goto(base + '/admin/login', { waitUntil: 'networkidle0' });
	await page.type('input[type=email]', process.env.ADMIN_EMAIL);
	await page.type('input[type=password]', process.env.ADMIN_PASSWORD);
	await Promise.all([page.waitForNavigation({ waitUntil: 'networkidle0' }), page.click('button[type=submit]')]);
	const rendered = await page.evaluate(async () => {
		const interfaces = (await import('/extensions/interfaces/index.js')).default;
		// The Vue build the app itself loaded.
		const vueFile = performance
			.getEntriesByType('resource')
			.map((e) => e.name)
			.find((url) => /\/vue\.[0-9a-f]+\.js$/.test(url));
		const vue = await import(vueFile);
		const div = document.createElement('div');
		document.body.appendChild(div);
		vue.createApp({ render: () => vue.h(interfaces[0].component, { value: 3 }) }).mount(div);
		return { ids: interfaces.map((i) => i.id), text: div.textContent };
	});
	process.stdout.write(JSON.stringify({ requests, rendered, errors }) + '\n');
} finally {
	await browser.close();
}
