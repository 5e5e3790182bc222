import { CardPage } from '../components/layout.tsx';

export function EnrollScreen() {
  return <CardPage title="Set up verification">{null}</CardPage>;
}
