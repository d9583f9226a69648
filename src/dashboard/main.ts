import { isLocale, type Locale, pickLocale } from '../i18n/index.ts';
import { ApiError, api, h, type Role, session } from './core.ts';
import { chooseLocale, chosenLocale, setLocale, t } from './i18n.ts';
import { buildingPage } from './pages/building.ts';
import { bulletinPage } from './pages/bulletin.ts';
import { casePage } from './pages/case.ts';
import { casesPage } from './pages/cases.ts';
import { compliancePage } from './pages/compliance.ts';
import { manualPage } from './pages/manual.ts';
import { overviewPage } from './pages/overview.ts';
import { seasonPage } from './pages/season.ts';
import { substationPage } from './pages/substation.ts';
import { ticketsPage } from './pages/tickets.ts';
import type { PageHandle } from './types.ts';

/** Hash routes: #/ · #/building/:id · #/substation/:id · #/tickets · #/compliance · #/manual · #/cases[/:id] · #/bulletin · #/season */
const view = document.getElementById('view')!;
let current: PageHandle | undefined;
/** The user's locale (users.yaml or the site default) and the site's time zone, from /api/me. */
let userLocale: Locale | undefined;
let timeZone = 'UTC';
const langSelect = document.getElementById('lang') as HTMLSelectElement;

/** The page's choice wins over the user's, which wins over the browser's language. */
function applyLocale(): void {
  const locale = chosenLocale() ?? userLocale ?? pickLocale(navigator.language, 'en');
  setLocale(locale, timeZone);
  langSelect.value = locale;
}

function route(): void {
  current?.dispose();
  current = undefined;
  if (!session.me) {
    view.replaceChildren(
      h('section', { class: 'welcome' }, h('h2', {}, t('welcome.title')), h('p', {}, t('welcome.body'))),
    );
    return;
  }
  const [path = '', query = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  const params = new URLSearchParams(query);
  for (const a of document.querySelectorAll('#nav a'))
    a.classList.toggle('active', (a as HTMLAnchorElement).hash === `#/${parts[0] ?? ''}`);
  if (parts[0] === 'building' && parts[1]) current = buildingPage(view, parts[1]);
  else if (parts[0] === 'substation' && parts[1]) current = substationPage(view, parts[1]);
  else if (parts[0] === 'tickets') current = ticketsPage(view, params);
  else if (parts[0] === 'compliance') current = compliancePage(view);
  else if (parts[0] === 'manual') current = manualPage(view);
  else if (parts[0] === 'cases' && parts[1]) current = casePage(view, parts[1]);
  else if (parts[0] === 'cases') current = casesPage(view, params);
  else if (parts[0] === 'bulletin') current = bulletinPage(view);
  else if (parts[0] === 'season') current = seasonPage(view);
  else current = overviewPage(view);
}

async function signIn(): Promise<void> {
  const login = document.getElementById('login') as HTMLFormElement;
  const who = document.getElementById('who')!;
  const logout = document.getElementById('logout')!;
  session.me = undefined;
  if (session.token) {
    try {
      const me = await api<{ name: string; role: Role; now: number; locale: Locale; timeZone: string }>(
        '/api/me',
      );
      session.me = { name: me.name, role: me.role };
      session.offsetMs = me.now - Date.now();
      timeZone = me.timeZone;
      userLocale = me.locale;
    } catch (e) {
      if (e instanceof ApiError && e.statusCode === 401) session.token = null;
      view.replaceChildren(h('p', { class: 'error' }, e instanceof Error ? e.message : String(e)));
    }
  }
  login.hidden = session.me !== undefined;
  who.hidden = logout.hidden = session.me === undefined;
  applyLocale();
  who.textContent = session.me ? `${session.me.name} · ${t(`role.${session.me.role}`)}` : '';
  document.body.dataset.role = session.me?.role ?? 'none';
  route();
}

document.getElementById('login')!.addEventListener('submit', (e) => {
  e.preventDefault();
  const input = document.getElementById('token') as HTMLInputElement;
  session.token = input.value.trim() || null;
  input.value = '';
  void signIn();
});
document.getElementById('logout')!.addEventListener('click', () => {
  session.token = null;
  void signIn();
});
langSelect.addEventListener('change', () => {
  if (!isLocale(langSelect.value)) return;
  chooseLocale(langSelect.value);
  applyLocale();
  if (session.me)
    document.getElementById('who')!.textContent = `${session.me.name} · ${t(`role.${session.me.role}`)}`;
  route();
});
window.addEventListener('hashchange', route);
applyLocale();
void signIn();
