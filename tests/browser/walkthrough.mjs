// A person's walkthrough of the Directus admin app (rc.83), in Debian's headless Chromium driven
// by puppeteer-core. Started by tests/browser.rs against a running server; works the same against
// Directus itself (the rc.83 oracle), which is how the steps and the list of requests were made.
//
// Each step checks the page; then it prints `{"check": step, "data": {...}}` and waits for one
// line on stdin: `ok`, or what the database check found wrong (the Rust side runs those checks).
// The outcome of every step is one line `{"step", "ok", "error", "screenshot", "unanswered"}`; a
// failing step saves a screenshot and lists the API requests that got no answer during it. At the end, every API request the app made is one line `{"requests": [...]}`.
//
// Environment: BASE_URL, ADMIN_EMAIL, ADMIN_PASSWORD, PREFIX (collection names), STEPS (the steps
// to run, comma-separated, in order; default all), OUT (screenshots), CHROMIUM.
import puppeteer from 'puppeteer-core';
import { createInterface } from 'node:readline';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.BASE_URL;
const admin = { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD };
const prefix = process.env.PREFIX || 'walk';
const out = process.env.OUT || tmpdir();
const articles = `${prefix}_articles`;
const authors = `${prefix}_authors`;
const notes = `${prefix}_notes`;
const editor = { email: `${prefix}-editor@example.com`, password: 'editor-pass-1' };
const projectName = `Rectus ${prefix}`;
const role = `Editors ${prefix}`;
/// How the app titles a collection (PREFIX holds letters only, so no word splitting applies).
const title = (collection) => collection.split('_').map((w) => w[0].toUpperCase() + w.slice(1)).join(' ');

const lines = createInterface({ input: process.stdin });
const pendingLines = [];
const waiters = [];
lines.on('line', (line) => (waiters.length ? waiters.shift()(line) : pendingLines.push(line)));
// The test runner went away (it failed or was stopped): nobody checks the database any more.
let finished = false;
lines.on('close', () => {
	if (finished) return;
	browser?.close().finally(() => process.exit(1));
});
const nextLine = () => (pendingLines.length ? Promise.resolve(pendingLines.shift()) : new Promise((resolve) => waiters.push(resolve)));
const emit = (value) => process.stdout.write(JSON.stringify(value) + '\n');

/// Asks the Rust side to check the database; throws what it found wrong.
async function checkDatabase(step, data = {}) {
	emit({ check: step, data });
	const answer = await nextLine();
	if (answer !== 'ok') throw new Error(`database: ${answer}`);
}

// ---- the API, for setup through the same server -------------------------------------------

async function api(method, path, body, token) {
	const response = await fetch(base + path, {
		method,
		headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	const text = await response.text();
	if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
	return text ? JSON.parse(text) : null;
}

/// Two collections related both ways: articles.author (many-to-one) and authors.articles
/// (one-to-many), with two rows each, as a person would have made them in the data model.
async function setup() {
	const { data } = await api('POST', '/auth/login', admin);
	const token = data.access_token;
	const id = { field: 'id', type: 'integer', meta: { hidden: true, interface: 'input', readonly: true }, schema: { is_primary_key: true, has_auto_increment: true } };
	await api('POST', '/collections', { collection: authors, meta: { icon: 'person', display_template: '{{name}}' }, schema: {}, fields: [id, { field: 'name', type: 'string', meta: { interface: 'input' }, schema: {} }] }, token);
	await api('POST', '/collections', {
		collection: articles,
		meta: { display_template: '{{title}}' },
		schema: {},
		fields: [id, { field: 'title', type: 'string', meta: { interface: 'input' }, schema: {} }, { field: 'author', type: 'integer', meta: { interface: 'select-dropdown-m2o', special: ['m2o'], options: { template: '{{name}}' } }, schema: {} }],
	}, token);
	await api('POST', `/fields/${authors}`, { field: 'articles', type: 'alias', meta: { interface: 'list-o2m', special: ['o2m'], options: { template: '{{title}}' } } }, token);
	await api('POST', '/relations', { collection: articles, field: 'author', related_collection: authors, meta: { one_field: 'articles' }, schema: { on_delete: 'SET NULL' } }, token);
	await api('POST', `/items/${authors}`, [{ name: 'Ada' }, { name: 'Grace' }], token);
	await api('POST', `/items/${articles}`, [{ title: 'First', author: 1 }, { title: 'Second' }], token);
}

// ---- the page -----------------------------------------------------------------------------

const requests = [];
/// API requests that got no answer (the app then shows "Network Error"), with the browser's
/// reason: reported with the step they happened in.
const unanswered = [];
let browser;
let page;
let profile;

async function openBrowser() {
	profile = mkdtempSync(join(tmpdir(), 'rectus-chromium-'));
	browser = await puppeteer.launch({
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		userDataDir: profile,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
	});
	page = await browser.newPage();
	// Generous: CI machines run this next to compilers.
	page.setDefaultTimeout(30000);
	await page.setViewport({ width: 1400, height: 900 });
	page.on('response', (response) => {
		const url = new URL(response.url());
		if (!url.href.startsWith(base) || url.pathname.startsWith('/admin')) return;
		requests.push({ method: response.request().method(), path: url.pathname, query: url.search, status: response.status() });
	});
	page.on('requestfailed', (request) => {
		const url = new URL(request.url());
		if (url.href.startsWith(base)) unanswered.push(`${request.method()} ${url.pathname}${url.search}: ${request.failure()?.errorText}`);
	});
}

/// Waits until the app has had no request in flight for a moment (or 5 s have passed).
const settle = () => page.waitForNetworkIdle({ idleTime: 300, timeout: 5000 }).catch(() => {});
async function goto(path) {
	await page.goto(base + '/admin' + path, { waitUntil: 'domcontentloaded' });
	await settle();
}

/// Waits until `text` is shown inside `selector`.
async function waitForText(text, selector = 'body') {
	await page.waitForFunction((t, s) => [...document.querySelectorAll(s)].some((e) => e.innerText.includes(t)), {}, text, selector);
}

async function waitForNoText(text, selector = 'body') {
	await page.waitForFunction((t, s) => ![...document.querySelectorAll(s)].some((e) => e.innerText.includes(t)), {}, text, selector);
}

/// Waits until `handle` has stopped moving (dialogs and menus scale and slide in): a click
/// aimed at where it was a frame ago lands on the overlay instead.
async function steady(handle) {
	await page.waitForFunction(
		async (e) => {
			const before = e.getBoundingClientRect();
			await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
			const after = e.getBoundingClientRect();
			return before.x === after.x && before.y === after.y && before.width === after.width && before.height === after.height;
		},
		{},
		handle,
	);
	return handle;
}

/// Clicks the button (or clickable icon) showing the material icon `name`, inside `scope`.
async function clickIcon(name, scope = 'body') {
	const handle = await page.waitForFunction(
		(n, s) => {
			const icon = [...document.querySelectorAll(`${s} .v-icon i`)].find((i) => i.textContent.trim() === n && i.offsetParent !== null);
			const target = icon && (icon.closest('button') || icon.closest('.v-icon'));
			return target && !target.disabled ? target : null;
		},
		{},
		name,
		scope,
	);
	await (await steady(handle)).click();
}

async function visibleIcon(name, scope) {
	return page.evaluate((n, s) => [...document.querySelectorAll(`${s} .v-icon i`)].some((i) => i.textContent.trim() === n && i.offsetParent !== null), name, scope);
}

/// Clicks the visible element of `selector` whose text (without its icons' names) is `text`.
async function clickText(text, selector = 'button, a, .v-list-item, li, tr, .v-button') {
	const handle = await page.waitForFunction(
		(t, s) => {
			const label = (e) => {
				const copy = e.cloneNode(true);
				copy.querySelectorAll('.v-icon').forEach((i) => i.remove());
				return copy.textContent.replace(/\s+/g, ' ').trim();
			};
			return [...document.querySelectorAll(s)].reverse().find((e) => e.offsetParent !== null && label(e) === t);
		},
		{},
		text,
		selector,
	);
	await (await steady(handle)).click();
}

/// The input of the form field labelled `label`.
async function fieldInput(label, tag = 'input') {
	return page.waitForFunction(
		(l, t) => {
			const field = [...document.querySelectorAll('.v-form .field')].find((f) => f.querySelector('.label')?.innerText.trim().startsWith(l));
			return field?.querySelector(t);
		},
		{},
		label,
		tag,
	);
}

async function replaceValue(handle, text) {
	await handle.click({ clickCount: 3 });
	await page.keyboard.press('Backspace');
	await handle.type(text);
}

/// The check button of the open drawer; waits until the drawer is gone.
async function confirmDrawer() {
	await clickIcon('check', '.v-drawer .header-bar');
	await page.waitForSelector('.v-drawer', { hidden: true });
}

async function save() {
	await clickIcon('check', '.header-bar');
	await settle();
}

async function login(who) {
	await goto('/login');
	await page.waitForSelector('input[type=email]');
	await page.type('input[type=email]', who.email);
	await page.type('input[type=password]', who.password);
	await Promise.all([page.waitForFunction(() => !location.pathname.endsWith('/login')), page.keyboard.press('Enter')]);
	await settle();
}

async function logout() {
	await goto('/logout');
	await page.waitForSelector('input[type=email]');
}

/// Opens the item whose row in the table has a cell showing `text`.
async function openRow(text) {
	await clickText(text, '.v-table tbody td');
	await page.waitForSelector('.v-form');
	await settle();
}

/// The ids of the rows the collection's table shows, by their title column.
async function tableShows(text) {
	await waitForText(text, '.v-table tbody');
}

// ---- the steps ----------------------------------------------------------------------------

const steps = {
	// The login form takes the credentials and the app moves on to its start page.
	async login() {
		await login(admin);
		await page.waitForFunction(() => location.pathname.endsWith('/admin/collections'));
		await checkDatabase('login', { email: admin.email });
	},

	async open_collection() {
		// The app records the page fire-and-forget after the route settles; the database is
		// only checked once that request has been answered.
		const tracked = page.waitForResponse((r) => r.url().endsWith('/users/me/track/page') && r.request().method() === 'PATCH' && r.request().postData()?.includes(`/collections/${articles}`), { timeout: 30000 });
		tracked.catch(() => {});
		await goto(`/collections/${articles}`);
		await page.waitForSelector('.module-bar');
		await tableShows('First');
		await tableShows('Second');
		await tracked;
		await checkDatabase('open_collection', { email: admin.email, last_page: `/collections/${articles}` });
	},

	async create_item() {
		await goto(`/collections/${articles}/+`);
		await (await fieldInput('Title')).type('Third');
		await save();
		await page.waitForFunction((c) => location.pathname.endsWith(`/collections/${c}`), {}, articles);
		await tableShows('Third');
		await checkDatabase('create_item', { title: 'Third' });
	},

	async edit_item() {
		await goto(`/collections/${articles}`);
		await openRow('Third');
		await replaceValue(await fieldInput('Title'), 'Third, edited');
		await save();
		await tableShows('Third, edited');
		await checkDatabase('edit_item', { title: 'Third, edited' });
	},

	async delete_item() {
		await goto(`/collections/${articles}`);
		await openRow('Third, edited');
		await clickIcon('delete', '.header-bar');
		await clickText('Delete', '.v-dialog .v-card-actions .v-button, .v-card-actions button');
		await page.waitForFunction((c) => location.pathname.endsWith(`/collections/${c}`), {}, articles);
		await settle();
		await waitForNoText('Third, edited', '.v-table tbody');
		await checkDatabase('delete_item', { title: 'Third, edited' });
	},

	async edit_many_to_one() {
		await goto(`/collections/${articles}`);
		await openRow('Second');
		const field = await fieldInput('Author', '.many-to-one .v-input');
		await field.click();
		await clickText('Grace', '.v-drawer .v-table tbody td');
		await confirmDrawer();
		await waitForText('Grace', '.many-to-one');
		await save();
		await checkDatabase('edit_many_to_one', { title: 'Second', author: 'Grace' });
	},

	async edit_one_to_many() {
		await goto(`/collections/${authors}`);
		await openRow('Ada');
		await waitForText('First', '.one-to-many');
		await clickText('Add Existing', '.one-to-many button, .one-to-many .v-button');
		await clickText('Second', '.v-drawer .v-table tbody td');
		await confirmDrawer();
		await waitForText('Second', '.one-to-many');
		await save();
		await checkDatabase('edit_one_to_many', { title: 'Second', author: 'Ada' });
	},

	async create_collection() {
		await goto('/settings/data-model/+');
		await (await page.waitForSelector('.v-drawer input')).type(notes);
		await clickIcon('arrow_forward', '.v-drawer .header-bar');
		await waitForText('Created On', '.v-drawer');
		await confirmDrawer();
		await page.waitForFunction((c) => location.pathname.endsWith(`/settings/data-model/${c}`), {}, notes);
		await settle();
		await checkDatabase('create_collection', { collection: notes });
	},

	async create_field() {
		await goto(`/settings/data-model/${notes}`);
		await clickText('Create Field', '.add-field button');
		await clickText('Standard Field', '.v-menu-content .v-list-item');
		await (await page.waitForSelector('.v-drawer .field input')).type('body');
		// Schema, Field, Interface, Display: forward until the drawer offers to save.
		for (let tab = 0; tab < 4 && !(await visibleIcon('check', '.v-drawer .header-bar')); tab++) {
			await clickIcon('arrow_forward', '.v-drawer .header-bar');
		}
		await confirmDrawer();
		await waitForText('body', '.fields-management');
		await checkDatabase('create_field', { collection: notes, field: 'body' });
	},

	async role_and_user() {
		await goto('/settings/roles/+');
		await (await page.waitForSelector('.v-card input')).type(role);
		await clickText('Save', '.v-card-actions button');
		await page.waitForFunction(() => /\/settings\/roles\/[0-9a-f-]{36}$/.test(location.pathname));
		await settle();
		// Read access to the articles, nothing on the authors: the eye column of their row.
		const readToggle = await page.waitForFunction(
			(title) => [...document.querySelectorAll('.permissions-overview-row')].find((r) => r.querySelector('.name')?.firstChild?.textContent.trim() === title)?.querySelectorAll('.permissions-overview-toggle .v-icon')[1],
			{},
			title(articles),
		);
		await readToggle.click();
		await clickText('All Access', '.v-menu-content .v-list-item');
		await settle();
		await goto('/users/+');
		await (await fieldInput('Email')).type(editor.email);
		await (await fieldInput('Password')).type(editor.password);
		const roleField = await fieldInput('Role', '.v-input');
		await roleField.evaluate((e) => e.scrollIntoView());
		await roleField.click();
		await clickText(role, '.v-drawer .v-table tbody td');
		await confirmDrawer();
		await save();
		await page.waitForFunction(() => !location.pathname.endsWith('/+'));
		await checkDatabase('role_and_user', { role, email: editor.email, collection: articles });
	},

	async login_as_role_user() {
		await logout();
		await login(editor);
		await goto('/collections');
		await waitForText(title(articles), '.module-nav');
		const shown = await page.evaluate(() => document.querySelector('.module-nav').innerText);
		if (shown.includes(title(authors))) throw new Error(`the editor sees a collection their role may not read: ${shown}`);
		await goto(`/collections/${articles}`);
		await tableShows('First');
		await checkDatabase('login_as_role_user', { email: editor.email });
		await logout();
		await login(admin);
	},

	async upload_image() {
		await goto('/files/+');
		const png = join(tmpdir(), `${prefix}-upload.png`);
		writeFileSync(png, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAQAAAAECAIAAAAmkwkpAAAAEElEQVR42mM4YaMBRwzEcQDxwxLBtO2pWAAAAABJRU5ErkJggg==', 'base64'));
		const input = await page.waitForSelector('input[type=file]', { visible: false });
		await input.uploadFile(png);
		await settle();
		await goto('/files');
		const thumbnail = await page.waitForFunction(() => [...document.querySelectorAll('.card img, .v-table img, img')].find((img) => img.src.includes('/assets/') && img.complete && img.naturalWidth > 0));
		const src = await thumbnail.evaluate((img) => img.src);
		await checkDatabase('upload_image', { thumbnail: new URL(src).pathname });
	},

	async project_name() {
		await goto('/settings/project');
		await replaceValue(await fieldInput('Project Name'), projectName);
		await save();
		await waitForText(projectName, '.project-info, .module-nav, body');
		await checkDatabase('project_name', { project_name: projectName });
	},

	async activity_and_revert() {
		await goto(`/collections/${articles}`);
		await openRow('First');
		await replaceValue(await fieldInput('Title'), 'First, changed');
		await save();
		await tableShows('First, changed');
		await openRow('First, changed');
		// The sidebar's revisions, newest first. Reverting the newest puts back, as unsaved edits,
		// the values it changed (as the revision before it holds them); saving stores them.
		await clickIcon('change_history', '.sidebar');
		await page.waitForFunction(() => document.querySelectorAll('.revision-item').length >= 2);
		await page.evaluate(() => document.querySelector('.revision-item').click());
		await (await page.waitForSelector('.v-drawer .v-button.revert button')).click();
		await page.waitForSelector('.v-drawer', { hidden: true });
		await page.waitForFunction(() => [...document.querySelectorAll('.v-form .field input')].some((i) => i.value === 'First'));
		await save();
		await goto(`/collections/${articles}`);
		await tableShows('First');
		await goto('/activity');
		await waitForText(title(articles), '.v-table tbody');
		await checkDatabase('activity_and_revert', { title: 'First' });
	},
};

// ---- the run ------------------------------------------------------------------------------

const chosen = (process.env.STEPS || Object.keys(steps).join(',')).split(',').filter(Boolean);
try {
	if (!process.env.SKIP_SETUP) await setup();
	await openBrowser();
	for (const name of chosen) {
		const step = steps[name];
		if (!step) {
			emit({ step: name, ok: false, error: 'no such step' });
			continue;
		}
		try {
			await step();
			unanswered.length = 0;
			emit({ step: name, ok: true });
		} catch (error) {
			const screenshot = join(out, `${prefix}-${name}.png`);
			await page.screenshot({ path: screenshot }).catch(() => {});
			emit({ step: name, ok: false, error: String(error?.message ?? error).split('\n')[0], screenshot, url: page.url(), unanswered: unanswered.splice(0) });
		}
	}
	emit({ requests });
} catch (error) {
	emit({ fatal: String(error?.stack ?? error) });
	process.exitCode = 1;
} finally {
	finished = true;
	await browser?.close();
	// Chromium may still be writing its profile as it exits.
	if (profile) rmSync(profile, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
	lines.close();
}
