import { ApiError, api, h, type Role, session } from './core.ts';
import { buildingPage } from './pages/building.ts';
import { compliancePage } from './pages/compliance.ts';
import { manualPage } from './pages/manual.ts';
import { overviewPage } from './pages/overview.ts';
import { substationPage } from './pages/substation.ts';
import { ticketsPage } from './pages/tickets.ts';
import type { PageHandle } from './types.ts';

/** Hash routes: #/ · #/building/:id · #/substation/:id · #/tickets · #/compliance · #/manual */
const view = document.getElementById('view')!;
let current: PageHandle | undefined;

function route(): void {
  current?.dispose();
  current = undefined;
  if (!session.me) {
    view.replaceChildren(
      h(
        'section',
        { class: 'welcome' },
        h('h2', {}, 'Sign in'),
        h('p', {}, 'Enter your API token above to see the network.'),
      ),
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
  else current = overviewPage(view);
}

async function signIn(): Promise<void> {
  const login = document.getElementById('login') as HTMLFormElement;
  const who = document.getElementById('who')!;
  const logout = document.getElementById('logout')!;
  session.me = undefined;
  if (session.token) {
    try {
      const me = await api<{ name: string; role: Role; now: number }>('/api/me');
      session.me = { name: me.name, role: me.role };
      session.offsetMs = me.now - Date.now();
    } catch (e) {
      if (e instanceof ApiError && e.statusCode === 401) session.token = null;
      view.replaceChildren(h('p', { class: 'error' }, e instanceof Error ? e.message : String(e)));
    }
  }
  login.hidden = session.me !== undefined;
  who.hidden = logout.hidden = session.me === undefined;
  who.textContent = session.me ? `${session.me.name} · ${session.me.role}` : '';
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
window.addEventListener('hashchange', route);
void signIn();
