// A minimal page for the first run and password sign-in; it uses only the public JSON API.
const $ = (id) => document.getElementById(id);

async function api(method, path, body) {
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers: body ? { 'content-type': 'application/json' } : {},
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = response.status === 204 ? null : await response.json();
  return { status: response.status, data };
}

function show(id) {
  for (const section of ['setup', 'signin', 'account']) $(section).hidden = section !== id;
  $('message').textContent = '';
}

function fail(data) {
  $('message').textContent = data?.message ?? 'Something went wrong.';
}

async function showAccount() {
  const me = await api('GET', '/me');
  if (me.status !== 200) return show('signin');
  const { user } = me.data;
  $('whoami').textContent = `${user.name} (${user.email}), ${user.role} of ${user.org.name}`;
  show('account');
}

$('setup').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const token = new URLSearchParams(location.hash.slice(1)).get('token') ?? '';
  const result = await api('POST', '/setup', {
    token,
    org: { slug: form.get('org_slug'), name: form.get('org_name') },
    admin: {
      email: form.get('admin_email'),
      name: form.get('admin_name'),
      password: form.get('admin_password'),
    },
  });
  if (result.status !== 201) return fail(result.data);
  history.replaceState(null, '', `/?org=${encodeURIComponent(result.data.org.slug)}`);
  await showAccount();
});

$('signin').addEventListener('submit', async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const result = await api('POST', '/auth/login', {
    org: form.get('org'),
    email: form.get('email'),
    password: form.get('password'),
  });
  if (result.status !== 200) return fail(result.data);
  await showAccount();
});

$('signout').addEventListener('click', async () => {
  await api('POST', '/auth/logout');
  show('signin');
});

const org = new URLSearchParams(location.search).get('org');
if (org) document.querySelector('#signin [name=org]').value = org;

if (location.pathname === '/setup') {
  const setup = await api('GET', '/setup');
  if (setup.data?.open) show('setup');
  else await showAccount();
} else {
  await showAccount();
}
