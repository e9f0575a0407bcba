// Placeholder: replaced by the database/Redis test fixtures (packages/db).
export default async function setup(): Promise<void> {}
