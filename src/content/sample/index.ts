import type { Db } from '../../db/schema';
import { BankBuilder, type ParsedBank } from '../import/model';
import { importBank } from '../commands/importBank';
import { rng } from './build';
import { SAMPLE_SKILLS } from './skills';
import { TEMPLATES } from './items';

export const SAMPLE_BANK_CODE = 'sample-pecahan-desimal';
const ITEMS_PER_SKILL = 14;
const SEED = 20240717;

/**
 * The sample bank: fractions and decimals, every skill with its items drawn from its templates in
 * turn, deterministically. A template that draws a stem already used is drawn again (a few times),
 * so the bank holds no two identical questions.
 */
export function sampleBank(): ParsedBank {
  const builder = new BankBuilder('id', { checkTex: false });
  builder.bank.skills.push(...SAMPLE_SKILLS.map((s) => ({
    code: s.code, name: s.name, prerequisites: s.prerequisites,
    details: { description: s.description, curriculum: [s.curriculum] },
  })));
  const r = rng(SEED);
  const stems = new Set<string>();
  for (const skill of SAMPLE_SKILLS) {
    const templates = TEMPLATES[skill.code];
    if (!templates?.length) throw new Error(`sample bank: no templates for skill ${skill.code}`);
    let made = 0;
    for (let attempt = 0; made < ITEMS_PER_SKILL && attempt < ITEMS_PER_SKILL * 8; attempt++) {
      const body = templates[attempt % templates.length]!(r);
      if (stems.has(body.stem.id!)) continue;
      stems.add(body.stem.id!);
      made++;
      const code = `${skill.code}-${String(made).padStart(2, '0')}`;
      if (!builder.item(0, code, body, [skill.code])) {
        throw new Error(`sample bank: item ${code} is invalid: ${JSON.stringify(builder.bank.report.at(-1))}`);
      }
    }
  }
  return builder.bank;
}

/** Loads the sample bank (shared by every tenant) when the database does not have it yet. */
export async function ensureSampleBank(db: Db): Promise<{ created: boolean; bankId: number }> {
  const existing = await db.selectFrom('bank').select('id').where('tenant_id', 'is', null).where('code', '=', SAMPLE_BANK_CODE).executeTakeFirst();
  if (existing) return { created: false, bankId: existing.id };
  const result = await importBank({
    db, tenantId: null, contextId: null, actor: 'system', source: 'sample', code: SAMPLE_BANK_CODE,
    title: 'Pecahan dan Desimal · Fractions and Decimals', parsed: sampleBank(),
    details: { description: { id: 'Bank contoh untuk kelas 4–7: pecahan, desimal, dan persen dalam kehidupan sehari-hari.', en: 'Sample bank for grades 4–7: fractions, decimals and percentages in everyday life.' } },
  });
  if (!result.ok) throw new Error('sample bank refused: ' + JSON.stringify(result.report.filter((l) => l.outcome === 'refused')));
  return { created: true, bankId: result.bankId };
}
