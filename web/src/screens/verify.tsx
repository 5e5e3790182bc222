import { CardPage } from '../components/layout.tsx';

export function VerifyScreen() {
  return <CardPage title="Verify it's you">{null}</CardPage>;
}
