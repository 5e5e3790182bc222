import { CardPage } from '../components/layout.tsx';

export function SetupScreen() {
  return <CardPage title="Create your organization">{null}</CardPage>;
}
