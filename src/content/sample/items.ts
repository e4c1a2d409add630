import type { ItemBody } from '../item';
import {
  bi, count, dec, fr, gcd, int, mixed, multichoice, multiresponse, numeric, pick, rp, shortanswer, truefalse, type Bi, type Rand,
} from './build';

/**
 * Item templates of the sample bank, one list per skill. Each template draws its numbers and its
 * setting (the market, the kitchen, the madrasah, sharing food, measuring cloth, pocket money) from
 * the seeded generator and writes the item in both languages.
 */
export type Template = (r: Rand) => ItemBody;

const NAMES = ['Siti', 'Budi', 'Rina', 'Ahmad', 'Dewi', 'Fajar', 'Nur', 'Putri', 'Rizki', 'Aisyah', 'Dimas', 'Wulan', 'Yusuf', 'Intan', 'Bayu', 'Laila'];

/** Foods cut into equal pieces. */
const FOODS: { id: string; en: string; enMany: string }[] = [
  { id: 'martabak manis', en: 'martabak manis', enMany: 'martabak manis pancakes' },
  { id: 'kue lapis', en: 'tray of kue lapis', enMany: 'trays of kue lapis' },
  { id: 'bolu pandan', en: 'pandan sponge cake', enMany: 'pandan sponge cakes' },
  { id: 'loyang brownies kukus', en: 'tray of steamed brownies', enMany: 'trays of steamed brownies' },
  { id: 'pizza', en: 'pizza', enMany: 'pizzas' },
  { id: 'lontong', en: 'lontong rice roll', enMany: 'lontong rice rolls' },
];
const WHERE: Bi[] = [
  { id: 'saat berbuka puasa di rumah', en: 'when breaking the fast at home' },
  { id: 'di acara syukuran tetangga', en: "at a neighbour's syukuran" },
  { id: 'setelah kerja bakti di madrasah', en: 'after the clean-up day at the madrasah' },
  { id: 'di arisan Ibu', en: "at Mum's arisan" },
];

const frac = (n: number, d: number) => bi(() => fr(n, d));
/** Two different names. */
const two = (r: Rand): [string, string] => {
  const i = int(r, 0, NAMES.length - 1);
  return [NAMES[i]!, NAMES[(i + int(r, 1, NAMES.length - 1)) % NAMES.length]!];
};
const simplest = (n: number, d: number): [number, number] => [n / gcd(n, d), d / gcd(n, d)];
const value = (n: number, d: number) => n / d;

// ------------------------------------------------------------------ fractions as parts of a whole

const partsOfWhole: Template[] = [
  (r) => {
    const d = pick(r, [6, 8, 10, 12]);
    const k = int(r, 2, d - 2);
    const who = pick(r, NAMES);
    const food = pick(r, FOODS);
    const where = pick(r, WHERE);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Ibu memotong ${food.id} menjadi ${d} potong sama besar ${where.id}. ${who} makan ${k} potong. Berapa bagian ${food.id} yang dimakan ${who}?`
        : `Mum cuts a ${food.en} into ${d} equal pieces ${where.en}. ${who} eats ${k} pieces. What fraction of it did ${who} eat?`),
      correct: frac(k, d),
      distractors: [
        { text: frac(d, k), feedback: { id: 'Penyebut adalah banyaknya semua potongan, jadi letaknya di bawah.', en: 'The denominator is the number of all the pieces, so it goes at the bottom.' } },
        { text: frac(k, d - k), feedback: { id: 'Itu membandingkan potongan yang dimakan dengan sisanya. Bandingkan dengan semua potongan.', en: 'That compares the eaten pieces with the rest. Compare them with all the pieces.' } },
        { text: frac(d - k, d), feedback: { id: 'Itu bagian yang masih tersisa, bukan yang dimakan.', en: 'That is the part still left, not the part eaten.' } },
      ],
      hints: [
        bi((l) => l === 'id' ? `Ada berapa potong semuanya? Itulah penyebutnya.` : `How many pieces are there altogether? That is the denominator.`),
        bi((l) => l === 'id' ? `Pembilangnya adalah banyak potong yang dimakan ${who}.` : `The numerator is the number of pieces ${who} ate.`),
      ],
      solution: bi((l) => l === 'id'
        ? `Semua potongan ada ${d} (penyebut), yang dimakan ${k} (pembilang). Jadi ${who} makan ${fr(k, d)} bagian.`
        : `There are ${d} pieces in all (the denominator) and ${k} were eaten (the numerator). So ${who} ate ${fr(k, d)} of it.`),
    });
  },
  (r) => {
    const d = pick(r, [20, 24, 25, 30, 32]);
    const girls = int(r, 8, d - 8);
    const cls = pick(r, ['5A', '5B', '6A', '6B']);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Di kelas ${cls} madrasah ada ${d} siswa. ${girls} di antaranya perempuan. Berapa bagian siswa kelas itu yang laki-laki? Tulis sebagai pecahan, misalnya 3/8.`
        : `Class ${cls} at the madrasah has ${d} students, and ${girls} of them are girls. What fraction of the class are boys? Write it as a fraction, for example 3/8.`),
      value: value(d - girls, d),
      wrong: [{ value: value(girls, d), feedback: { id: 'Itu bagian siswa perempuan. Pertanyaannya tentang siswa laki-laki.', en: 'That is the fraction of girls. The question asks about the boys.' } }],
      hints: [bi((l) => l === 'id' ? `Hitung dulu banyak siswa laki-laki: ${d} − ${girls}.` : `First count the boys: ${d} − ${girls}.`)],
      solution: bi((l) => l === 'id'
        ? `Siswa laki-laki ada ${d} − ${girls} = ${d - girls}. Bagiannya ${fr(d - girls, d)} dari seluruh kelas.`
        : `There are ${d} − ${girls} = ${d - girls} boys, so they are ${fr(d - girls, d)} of the class.`),
    });
  },
  (r) => {
    const d = pick(r, [4, 5, 6, 8]);
    const k = int(r, 1, d - 1);
    const flip = r() < 0.5;
    const who = pick(r, NAMES);
    return truefalse({
      stem: bi((l) => l === 'id'
        ? `${who} membeli sebatang kain batik lalu memotongnya menjadi ${d} bagian sama panjang. ${k} bagian dijadikan taplak meja. Benarkah kain yang dijadikan taplak adalah ${flip ? fr(d, k) : fr(k, d)} bagian?`
        : `${who} buys a length of batik cloth and cuts it into ${d} equal parts. ${k === 1 ? 'One of the parts becomes' : `${k} of the parts become`} a tablecloth. Is it true that the tablecloth uses ${flip ? fr(d, k) : fr(k, d)} of the cloth?`),
      answer: !flip,
      whenWrong: flip
        ? { id: `Pecahan itu terbalik: banyak bagian yang dipakai (${k}) di atas, semua bagian (${d}) di bawah.`, en: `That fraction is upside down: the parts used (${k}) go on top, all the parts (${d}) at the bottom.` }
        : { id: `Memang benar: ${k} dari ${d} bagian sama dengan ${fr(k, d)}.`, en: `It is true: ${k} of ${d} equal parts is ${fr(k, d)}.` },
      hints: [{ id: 'Pembilang = bagian yang dipakai, penyebut = semua bagian.', en: 'Numerator = parts used, denominator = all the parts.' }],
      solution: bi((l) => l === 'id' ? `Kain dibagi ${d} bagian dan ${k} dipakai, jadi pecahannya ${fr(k, d)}.` : `The cloth is cut into ${d} parts and ${k} ${k === 1 ? 'is' : 'are'} used, so the fraction is ${fr(k, d)}.`),
    });
  },
];

// ------------------------------------------------------------------ equivalent fractions

const equivalent: Template[] = [
  (r) => {
    const [a, b] = pick(r, [[1, 2], [1, 3], [2, 3], [3, 4], [2, 5], [1, 4], [3, 5]] as const);
    const m = int(r, 2, 4);
    const who = pick(r, NAMES);
    const other = pick(r, NAMES.filter((n) => n !== who));
    const food = pick(r, FOODS);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Dua ${food.id} sama besar. Punya ${who} dipotong ${b}, punya ${other} dipotong ${b * m}. ${who} makan ${a} potong. Berapa potong yang harus dimakan ${other} agar bagiannya sama banyak?`
        : `Two ${food.enMany} are the same size. ${who}'s is cut into ${b} pieces and ${other}'s into ${b * m}. ${who} eats ${a} piece${a > 1 ? 's' : ''}. How many pieces must ${other} eat to have the same amount?`),
      value: a * m,
      wrong: [{ value: a + (b * m - b), feedback: { id: 'Menambah bilangan yang sama di atas dan di bawah tidak menjaga nilai pecahan. Kalikan keduanya.', en: 'Adding the same number on top and bottom does not keep the value. Multiply both instead.' } }],
      hints: [
        bi((l) => l === 'id' ? `Setiap potong milik ${who} sama dengan berapa potong milik ${other}? (${b * m} : ${b})` : `Each of ${who}'s pieces equals how many of ${other}'s? (${b * m} ÷ ${b})`),
      ],
      solution: bi((l) => l === 'id'
        ? `${fr(a, b)} = ${fr(a * m, b * m)}, karena pembilang dan penyebut sama-sama dikali ${m}. Jadi ${other} makan ${a * m} potong.`
        : `${fr(a, b)} = ${fr(a * m, b * m)}, because numerator and denominator are both multiplied by ${m}. So ${other} eats ${a * m} pieces.`),
    });
  },
  (r) => {
    const [a, b] = pick(r, [[1, 2], [2, 3], [3, 4], [2, 5], [3, 8], [4, 5]] as const);
    const m = int(r, 2, 5);
    const unit = pick(r, [{ id: 'gelas tepung', en: 'cup of flour' }, { id: 'liter santan', en: 'litre of coconut milk' }, { id: 'kg gula', en: 'kg of sugar' }]);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Resep kue Nenek memakai ${fr(a, b)} ${unit.id}. Takaran mana yang sama banyaknya?`
        : `Grandma's cake recipe uses ${fr(a, b)} ${unit.en}. Which amount is the same?`),
      correct: frac(a * m, b * m),
      distractors: [
        { text: frac(a + m, b + m), feedback: { id: 'Menambah bilangan yang sama di atas dan di bawah mengubah nilai pecahan.', en: 'Adding the same number to top and bottom changes the value.' } },
        { text: frac(a * m, b), feedback: { id: 'Hanya pembilang yang dikali. Penyebut juga harus dikali bilangan yang sama.', en: 'Only the numerator was multiplied. The denominator must be multiplied by the same number.' } },
        { text: frac(a, b * m), feedback: { id: 'Hanya penyebut yang dikali, jadi potongannya menjadi lebih kecil.', en: 'Only the denominator was multiplied, so the pieces got smaller.' } },
      ],
      hints: [{ id: 'Pecahan senilai didapat dengan mengalikan pembilang dan penyebut dengan bilangan yang sama.', en: 'Equivalent fractions come from multiplying numerator and denominator by the same number.' }],
      solution: bi(() => `${fr(a, b)} = \\(\\frac{${a}\\times${m}}{${b}\\times${m}}\\) = ${fr(a * m, b * m)}.`),
    });
  },
];

// ------------------------------------------------------------------ simplifying

const simplifying: Template[] = [
  (r) => {
    const [a, b] = pick(r, [[3, 4], [2, 3], [3, 5], [1, 4], [5, 6], [2, 7], [4, 9]] as const);
    const g = pick(r, [2, 3, 4, 6]);
    const total = b * g;
    const part = a * g;
    return shortanswer({
      stem: bi((l) => l === 'id'
        ? `Dari ${total} siswa madrasah yang ikut lomba tahfiz, ${part} siswa hafal juz 30. Tulis bagian siswa yang hafal juz 30 sebagai pecahan paling sederhana (misalnya 2/3).`
        : `Of the ${total} madrasah students in the Qur'an memorisation contest, ${part} know juz 30 by heart. Write the fraction who know juz 30 in its simplest form (for example 2/3).`),
      answers: [`${a}/${b}`, `${a} / ${b}`],
      wrong: [{ text: `${part}/${total}`, feedback: { id: 'Pecahannya benar, tetapi belum paling sederhana. Bagi pembilang dan penyebut dengan FPB-nya.', en: 'The fraction is right but not in simplest form. Divide top and bottom by their greatest common factor.' } }],
      hints: [
        bi((l) => l === 'id' ? `Pecahannya ${fr(part, total)}. Cari bilangan terbesar yang membagi habis ${part} dan ${total}.` : `The fraction is ${fr(part, total)}. Find the greatest number that divides both ${part} and ${total}.`),
      ],
      solution: bi((l) => l === 'id'
        ? `FPB dari ${part} dan ${total} adalah ${g}. ${fr(part, total)} = \\(\\frac{${part}:${g}}{${total}:${g}}\\) = ${fr(a, b)}.`
        : `The greatest common factor of ${part} and ${total} is ${g}. ${fr(part, total)} = \\(\\frac{${part}\\div${g}}{${total}\\div${g}}\\) = ${fr(a, b)}.`),
    });
  },
  (r) => {
    const [a, b] = pick(r, [[3, 4], [2, 3], [1, 6], [5, 8], [3, 10]] as const);
    const g = pick(r, [4, 6, 8]);
    const [n, d] = [a * g, b * g];
    const half: [number, number] = [n / 2, d / 2];
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Pak Harun menabung ${n} minggu dari ${d} minggu dalam satu semester. Bentuk paling sederhana dari ${fr(n, d)} adalah …`
        : `Pak Harun put money in his savings ${n} weeks out of the ${d} weeks of the semester. The simplest form of ${fr(n, d)} is …`),
      correct: frac(a, b),
      distractors: [
        ...(gcd(half[0], half[1]) > 1 ? [{ text: frac(half[0], half[1]), feedback: { id: 'Sudah disederhanakan, tetapi masih bisa dibagi lagi. Pakai FPB agar langsung paling sederhana.', en: 'Simplified, but it can still be divided further. Use the greatest common factor to get there in one step.' } }] : []),
        { text: frac(n - 2 >= 1 ? n - 2 : n, d - 2), feedback: { id: 'Mengurangi pembilang dan penyebut dengan bilangan yang sama mengubah nilainya. Bagilah, jangan kurangi.', en: 'Subtracting the same number from top and bottom changes the value. Divide instead.' } },
        { text: frac(b, a), feedback: { id: 'Pecahan itu terbalik.', en: 'That fraction is upside down.' } },
      ],
      hints: [bi((l) => l === 'id' ? `Bilangan apa yang membagi habis ${n} dan ${d}? Cari yang terbesar.` : `Which numbers divide both ${n} and ${d}? Find the greatest.`)],
      solution: bi((l) => l === 'id'
        ? `FPB dari ${n} dan ${d} adalah ${g}, jadi ${fr(n, d)} = ${fr(a, b)}.`
        : `The greatest common factor of ${n} and ${d} is ${g}, so ${fr(n, d)} = ${fr(a, b)}.`),
    });
  },
];

// ------------------------------------------------------------------ comparing fractions

const comparingFractions: Template[] = [
  (r) => {
    const pairs = [[2, 3, 3, 5], [3, 4, 4, 6], [1, 3, 2, 7], [5, 6, 7, 9], [2, 5, 3, 8], [3, 7, 2, 5], [4, 5, 5, 7]] as const;
    const [a, b, c, d] = pick(r, pairs);
    const [x, y] = two(r);
    const first = value(a, b) > value(c, d);
    const bigger = first ? x : y;
    const smaller = first ? y : x;
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `${x} minum ${fr(a, b)} liter susu kedelai, ${y} minum ${fr(c, d)} liter. Siapa yang minum lebih banyak?`
        : `${x} drinks ${fr(a, b)} litre of soy milk and ${y} drinks ${fr(c, d)} litre. Who drinks more?`),
      correct: { id: bigger, en: bigger },
      distractors: [
        { text: { id: smaller, en: smaller }, feedback: { id: 'Penyebut yang lebih besar tidak berarti pecahan yang lebih besar. Samakan penyebutnya dulu.', en: 'A bigger denominator does not mean a bigger fraction. Make the denominators equal first.' } },
        { text: { id: 'Sama banyak', en: 'The same amount' }, feedback: { id: 'Samakan penyebutnya: kedua pecahan ternyata berbeda.', en: 'Use a common denominator: the two fractions are not equal.' } },
      ],
      hints: [bi((l) => l === 'id' ? `Ubah keduanya menjadi pecahan berpenyebut ${b * d}.` : `Change both into fractions with denominator ${b * d}.`)],
      solution: bi((l) => `${fr(a, b)} = ${fr(a * d, b * d)} ${l === 'id' ? 'dan' : 'and'} ${fr(c, d)} = ${fr(c * b, b * d)}. ${l === 'id' ? `Karena ${a * d} ${first ? '>' : '<'} ${c * b}, ${bigger} minum lebih banyak.` : `Since ${a * d} ${first ? '>' : '<'} ${c * b}, ${bigger} drinks more.`}`),
    });
  },
  (r) => {
    const [a, b, c, d] = pick(r, [[1, 4, 1, 3], [1, 5, 1, 6], [2, 9, 2, 7], [3, 8, 3, 10], [1, 2, 1, 8]] as const);
    const claim = value(a, b) > value(c, d);
    return truefalse({
      stem: bi((l) => l === 'id'
        ? `Di pasar, ${fr(a, b)} kg cabai rawit dibandingkan dengan ${fr(c, d)} kg. Benarkah ${fr(a, b)} kg lebih berat daripada ${fr(c, d)} kg?`
        : `At the market, ${fr(a, b)} kg of bird's-eye chillies is compared with ${fr(c, d)} kg. Is ${fr(a, b)} kg heavier than ${fr(c, d)} kg?`),
      answer: claim,
      whenWrong: { id: 'Jika pembilangnya sama, pecahan dengan penyebut lebih kecil justru lebih besar: potongannya lebih besar.', en: 'When the numerators are equal, the fraction with the smaller denominator is larger: its pieces are bigger.' },
      hints: [{ id: 'Pembilangnya sama. Bayangkan kue yang dipotong lebih sedikit: potongannya lebih besar.', en: 'The numerators are the same. Imagine a cake cut into fewer pieces: each piece is bigger.' }],
      solution: bi((l) => l === 'id'
        ? `Pembilang keduanya ${a}. ${b} ${b < d ? '<' : '>'} ${d}, jadi ${fr(a, b)} ${claim ? '>' : '<'} ${fr(c, d)}.`
        : `Both numerators are ${a}. ${b} ${b < d ? '<' : '>'} ${d}, so ${fr(a, b)} ${claim ? '>' : '<'} ${fr(c, d)}.`),
    });
  },
];

// ------------------------------------------------------------------ mixed numbers

const mixedNumbers: Template[] = [
  (r) => {
    const d = pick(r, [2, 3, 4, 5, 8]);
    const w = int(r, 1, 4);
    const n = int(r, 1, d - 1);
    const thing = pick(r, [{ id: 'kg beras', en: 'kg of rice' }, { id: 'meter kain', en: 'metres of cloth' }, { id: 'liter minyak goreng', en: 'litres of cooking oil' }]);
    return shortanswer({
      stem: bi((l) => l === 'id'
        ? `Ibu membeli ${mixed(w, n, d)} ${thing.id}. Tulis banyaknya sebagai pecahan biasa (misalnya 7/4).`
        : `Mum buys ${mixed(w, n, d)} ${thing.en}. Write the amount as an improper fraction (for example 7/4).`),
      answers: [`${w * d + n}/${d}`, `${w * d + n} / ${d}`],
      wrong: [{ text: `${w + n}/${d}`, feedback: { id: 'Bilangan bulatnya harus dikali penyebut dulu sebelum ditambah pembilang.', en: 'The whole number must be multiplied by the denominator before adding the numerator.' } }],
      hints: [bi((l) => l === 'id' ? `${w} utuh = ${fr(w * d, d)}.` : `${w} wholes = ${fr(w * d, d)}.`)],
      solution: bi(() => `${mixed(w, n, d)} = \\(\\frac{${w}\\times${d}+${n}}{${d}}\\) = ${fr(w * d + n, d)}.`),
    });
  },
  (r) => {
    const d = pick(r, [3, 4, 5, 6]);
    const w = int(r, 1, 3);
    const n = int(r, 1, d - 1);
    const top = w * d + n;
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Untuk kerja bakti, madrasah menyiapkan ${fr(top, d)} ember air. Pecahan campurannya adalah …`
        : `For the madrasah clean-up day, ${fr(top, d)} buckets of water are ready. As a mixed number, that is …`),
      correct: bi(() => mixed(w, n, d)),
      distractors: [
        { text: bi(() => mixed(n, w, d)), feedback: { id: 'Bilangan bulat adalah hasil bagi, sisa pembagian menjadi pembilang.', en: 'The whole number is the quotient; the remainder becomes the numerator.' } },
        { text: bi(() => mixed(w + 1, n, d)), feedback: { id: `Coba hitung lagi: berapa kali ${d} termuat dalam ${top}?`, en: `Check again: how many times does ${d} go into ${top}?` } },
        { text: bi(() => mixed(w, top - w, d)), feedback: { id: 'Sisa pembagian adalah yang tersisa setelah mengambil kelompok utuh, bukan pembilang dikurangi bilangan bulat.', en: 'The remainder is what is left after taking whole groups, not the numerator minus the whole number.' } },
      ],
      hints: [bi((l) => l === 'id' ? `Bagi ${top} dengan ${d}: hasilnya bilangan bulat, sisanya pembilang.` : `Divide ${top} by ${d}: the quotient is the whole number, the remainder the numerator.`)],
      solution: bi((l) => `${top} : ${d} = ${w} ${l === 'id' ? 'sisa' : 'remainder'} ${n}, ${l === 'id' ? 'jadi' : 'so'} ${fr(top, d)} = ${mixed(w, n, d)}.`),
    });
  },
];

// ------------------------------------------------------------------ adding with the same denominator

const sameDenominator: Template[] = [
  (r) => {
    const d = pick(r, [5, 7, 8, 9, 10, 12]);
    const a = int(r, 1, d - 2);
    const b = int(r, 1, d - 1 - a);
    const [x, y] = [pick(r, NAMES), pick(r, NAMES.slice(8))];
    const food = pick(r, FOODS);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `${x} makan ${fr(a, d)} ${food.id}, adiknya ${y} makan ${fr(b, d)}. Berapa bagian yang mereka makan bersama? (misalnya 3/8)`
        : `${x} eats ${fr(a, d)} of a ${food.en} and little ${y} eats ${fr(b, d)}. What fraction did they eat together? (for example 3/8)`),
      value: value(a + b, d),
      wrong: [{ value: value(a + b, 2 * d), feedback: { id: 'Penyebut tidak dijumlahkan: potongannya tetap sama besar. Jumlahkan pembilangnya saja.', en: 'Do not add the denominators: the pieces stay the same size. Add only the numerators.' } }],
      hints: [{ id: 'Penyebutnya sama, jadi ukuran potongannya sama. Hitung saja berapa potong semuanya.', en: 'The denominators are equal, so the pieces are the same size. Just count the pieces.' }],
      solution: bi(() => `${fr(a, d)} + ${fr(b, d)} = \\(\\frac{${a}+${b}}{${d}}\\) = ${fr(a + b, d)}.`),
    });
  },
  (r) => {
    const d = pick(r, [4, 6, 8, 10]);
    const a = int(r, 3, d);
    const b = int(r, 1, a - 1);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Ayah membawa ${fr(a, d)} karung beras ke madrasah untuk dapur umum. Sebanyak ${fr(b, d)} karung sudah dimasak. Berapa karung yang tersisa?`
        : `Dad brings ${fr(a, d)} of a sack of rice to the madrasah's community kitchen. ${fr(b, d)} of a sack has been cooked. How much of a sack is left?`),
      correct: frac(a - b, d),
      distractors: [
        { text: frac(d - (a - b), d), feedback: { id: 'Itu bagian karung yang kosong. Yang ditanyakan beras yang tersisa.', en: 'That is the empty part of the sack. The question asks for the rice left.' } },
        { text: frac(a + b, d), feedback: { id: 'Yang tersisa didapat dengan mengurangkan, bukan menjumlahkan.', en: 'What is left comes from subtracting, not adding.' } },
      ],
      hints: [{ id: 'Kurangkan pembilangnya; penyebutnya tetap.', en: 'Subtract the numerators; the denominator stays.' }],
      solution: bi(() => `${fr(a, d)} − ${fr(b, d)} = \\(\\frac{${a}-${b}}{${d}}\\) = ${fr(a - b, d)}.`),
    });
  },
];

// ------------------------------------------------------------------ adding with different denominators

const lcm = (a: number, b: number) => (a * b) / gcd(a, b);

const differentDenominators: Template[] = [
  (r) => {
    const [b, d] = pick(r, [[2, 3], [2, 5], [3, 4], [4, 6], [3, 5], [2, 8], [4, 5]] as const);
    const a = int(r, 1, b - 1);
    const c = int(r, 1, d - 1);
    const m = lcm(b, d);
    const colour = pick(r, [{ id: 'merah', en: 'red' }, { id: 'biru', en: 'blue' }, { id: 'hijau', en: 'green' }]);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Untuk seragam menari, Ibu membeli ${fr(a, b)} meter kain batik dan ${fr(c, d)} meter kain ${colour.id}. Berapa meter kain seluruhnya? Tulis sebagai pecahan atau desimal.`
        : `For a dance costume, Mum buys ${fr(a, b)} metre of batik cloth and ${fr(c, d)} metre of ${colour.en} cloth. How many metres is that altogether? Write a fraction or a decimal.`),
      value: value(a, b) + value(c, d),
      unit: 'm',
      wrong: [{ value: value(a + c, b + d), feedback: { id: 'Pembilang ditambah pembilang dan penyebut ditambah penyebut tidak berlaku. Samakan penyebut dulu.', en: 'Adding tops together and bottoms together does not work. Make the denominators equal first.' } }],
      hints: [
        bi((l) => l === 'id' ? `KPK dari ${b} dan ${d} adalah ${m}.` : `The least common multiple of ${b} and ${d} is ${m}.`),
        bi((l) => l === 'id' ? `Ubah: ${fr(a, b)} = ${fr(a * (m / b), m)}.` : `Change: ${fr(a, b)} = ${fr(a * (m / b), m)}.`),
      ],
      solution: bi(() => `${fr(a, b)} + ${fr(c, d)} = ${fr(a * (m / b), m)} + ${fr(c * (m / d), m)} = ${fr(a * (m / b) + c * (m / d), m)} m.`),
    });
  },
  (r) => {
    const [b, d] = pick(r, [[2, 4], [3, 6], [2, 6], [4, 8], [5, 10], [3, 4]] as const);
    const a = int(r, 1, b - 1);
    const c = int(r, 1, d - 1);
    const m = lcm(b, d);
    const total = value(a, b) + value(c, d);
    const n = a * (m / b) + c * (m / d);
    const [sn, sd] = simplest(n, m);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Pagi hari ${fr(a, b)} jam dipakai untuk murajaah, sore hari ${fr(c, d)} jam. Berapa jam seluruhnya?`
        : `In the morning ${fr(a, b)} hour is spent revising the Qur'an, and in the afternoon ${fr(c, d)} hour. How many hours is that in total?`),
      correct: total >= 1 && sn % sd !== 0 ? bi(() => mixed(Math.floor(sn / sd), sn % sd, sd)) : frac(sn, sd),
      distractors: [
        { text: frac(a + c, b + d), feedback: { id: 'Penyebut tidak dijumlahkan. Samakan penyebut dulu, lalu jumlahkan pembilangnya.', en: 'Denominators are not added. Make them equal first, then add the numerators.' } },
        { text: frac(a + c, m), feedback: { id: 'Penyebutnya sudah disamakan, tetapi pembilangnya juga harus diubah.', en: 'The denominator is common now, but the numerators must be changed too.' } },
      ],
      hints: [bi((l) => l === 'id' ? `Gunakan penyebut ${m}.` : `Use the denominator ${m}.`)],
      solution: bi((l) => `${fr(a, b)} + ${fr(c, d)} = ${fr(a * (m / b), m)} + ${fr(c * (m / d), m)} = ${fr(n, m)}${n !== sn ? ` = ${fr(sn, sd)}` : ''}${l === 'id' ? ' jam' : ' hour(s)'}.`),
    });
  },
];

// ------------------------------------------------------------------ a fraction of a quantity

const ofQuantity: Template[] = [
  (r) => {
    const [a, b] = pick(r, [[1, 2], [1, 4], [3, 4], [2, 5], [1, 5], [2, 3], [3, 8]] as const);
    const money = b * pick(r, [2000, 2500, 5000, 1000]) * int(r, 1, 4);
    const who = pick(r, NAMES);
    const use = pick(r, [{ id: 'untuk infak Jumat', en: 'for the Friday donation' }, { id: 'untuk membeli buku tulis', en: 'to buy exercise books' }, { id: 'untuk ditabung', en: 'for savings' }]);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Uang saku ${who} minggu ini ${rp(money, 'id')}. ${fr(a, b)} dari uang itu ${use.id}. Berapa rupiah itu?`
        : `${who}'s pocket money this week is ${rp(money, 'en')}. ${fr(a, b)} of it is ${use.en}. How many rupiah is that?`),
      value: (money * a) / b,
      unit: 'Rp',
      wrong: [{ value: money / b, feedback: { id: `Itu baru ${fr(1, b)} bagian. Kalikan dengan ${a}.`, en: `That is only ${fr(1, b)} of it. Multiply by ${a}.` } }],
      hints: [bi((l) => l === 'id' ? `Cari dulu ${fr(1, b)} dari ${rp(money, 'id')}: bagi dengan ${b}.` : `First find ${fr(1, b)} of ${rp(money, 'en')}: divide by ${b}.`)],
      solution: bi((l) => `${rp(money, l)} : ${b} = ${rp(money / b, l)}; ${rp(money / b, l)} × ${a} = ${rp((money * a) / b, l)}.`),
    });
  },
  (r) => {
    const [a, b] = pick(r, [[2, 3], [3, 4], [3, 5], [5, 6], [1, 3]] as const);
    const students = b * int(r, 5, 9);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Ada ${students} siswa yang ikut perkemahan madrasah. ${fr(a, b)} di antaranya membawa tenda sendiri. Berapa siswa yang membawa tenda?`
        : `${students} students go on the madrasah camp. ${fr(a, b)} of them bring their own tent. How many students bring a tent?`),
      correct: { id: String((students * a) / b), en: String((students * a) / b) },
      distractors: [
        { text: { id: String(students / b), en: String(students / b) }, feedback: { id: `Itu ${fr(1, b)} dari siswa. Pertanyaannya ${fr(a, b)}.`, en: `That is ${fr(1, b)} of the students. The question asks for ${fr(a, b)}.` } },
        { text: { id: String(students - (students * a) / b), en: String(students - (students * a) / b) }, feedback: { id: 'Itu siswa yang tidak membawa tenda.', en: 'That is the number without a tent.' } },
        { text: { id: String(students * a), en: String(students * a) }, feedback: { id: 'Setelah mengalikan dengan pembilang, bagi juga dengan penyebut.', en: 'After multiplying by the numerator, divide by the denominator too.' } },
      ],
      hints: [bi((l) => l === 'id' ? `${students} : ${b} = ?` : `${students} ÷ ${b} = ?`)],
      solution: bi((l) => l === 'id'
        ? `${fr(a, b)} × ${students} = (${students} : ${b}) × ${a} = ${students / b} × ${a} = ${(students * a) / b} siswa.`
        : `${fr(a, b)} × ${students} = (${students} ÷ ${b}) × ${a} = ${students / b} × ${a} = ${(students * a) / b} students.`),
    });
  },
];

// ------------------------------------------------------------------ multiplying fractions

const multiplying: Template[] = [
  (r) => {
    const [a, b] = pick(r, [[1, 2], [1, 3], [2, 3], [3, 4], [1, 4]] as const);
    const [c, d] = pick(r, [[3, 4], [1, 2], [2, 5], [4, 5], [5, 8]] as const);
    const [sn, sd] = simplest(a * c, b * d);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Di kulkas ada ${fr(c, d)} liter susu. Ibu memakai ${fr(a, b)} dari susu itu untuk membuat puding. Berapa liter susu yang dipakai?`
        : `There is ${fr(c, d)} litre of milk in the fridge. Mum uses ${fr(a, b)} of it to make pudding. How many litres does she use?`),
      value: value(a * c, b * d),
      unit: 'liter',
      wrong: [{ value: value(a, b) + value(c, d), feedback: { id: '"Dari" berarti dikali, bukan dijumlah.', en: '"Of" means multiply, not add.' } }],
      hints: [
        bi((l) => l === 'id' ? `${fr(a, b)} dari ${fr(c, d)} = ${fr(a, b)} × ${fr(c, d)}.` : `${fr(a, b)} of ${fr(c, d)} = ${fr(a, b)} × ${fr(c, d)}.`),
        { id: 'Kalikan pembilang dengan pembilang, penyebut dengan penyebut.', en: 'Multiply top by top and bottom by bottom.' },
      ],
      solution: bi((l) => `${fr(a, b)} × ${fr(c, d)} = \\(\\frac{${a}\\times${c}}{${b}\\times${d}}\\) = ${fr(a * c, b * d)}${sn !== a * c ? ` = ${fr(sn, sd)}` : ''} ${l === 'id' ? 'liter' : 'litre'}.`),
    });
  },
  (r) => {
    const [a, b] = pick(r, [[2, 3], [3, 4], [3, 5], [1, 2]] as const);
    const [c, d] = pick(r, [[1, 2], [2, 3], [5, 6], [3, 7]] as const);
    const [sn, sd] = simplest(a * c, b * d);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Kebun madrasah luasnya ${fr(c, d)} hektare. ${fr(a, b)} bagian kebun ditanami kangkung. Berapa hektare kebun kangkung?`
        : `The madrasah garden is ${fr(c, d)} hectare. ${fr(a, b)} of the garden is planted with water spinach. How many hectares is that?`),
      correct: frac(sn, sd),
      distractors: [
        { text: frac(a * d, b * c), feedback: { id: 'Itu perkalian silang, cara untuk pembagian. Untuk perkalian: atas × atas, bawah × bawah.', en: 'That is cross-multiplying, which belongs to division. For multiplying: top × top, bottom × bottom.' } },
        { text: frac(a + c, b + d), feedback: { id: 'Pecahan tidak dikalikan dengan menjumlahkan pembilang dan penyebut.', en: 'Fractions are not multiplied by adding numerators and denominators.' } },
        { text: frac(a * c, b), feedback: { id: 'Penyebut juga harus dikali.', en: 'The denominators must be multiplied too.' } },
      ],
      hints: [{ id: 'Hasil kali dua pecahan yang kurang dari 1 lebih kecil daripada keduanya.', en: 'The product of two fractions below 1 is smaller than both.' }],
      solution: bi(() => `${fr(a, b)} × ${fr(c, d)} = ${fr(a * c, b * d)}${sn !== a * c ? ` = ${fr(sn, sd)}` : ''}.`),
    });
  },
];

// ------------------------------------------------------------------ dividing fractions

const dividing: Template[] = [
  (r) => {
    const d = pick(r, [4, 8, 10]);
    const pack = 1;
    const amount = pick(r, [1, 1.5, 2, 2.5, 3]);
    const bags = amount * d;
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Pedagang di pasar punya ${dec(amount, 'id')} kg gula pasir. Gula itu dibungkus dalam kantong ${fr(pack, d)} kg. Berapa kantong yang didapat?`
        : `A market trader has ${dec(amount, 'en')} kg of sugar. She packs it into bags of ${fr(pack, d)} kg. How many bags does she fill?`),
      value: bags,
      wrong: [{ value: amount * pack / d, feedback: { id: 'Dikali, padahal pertanyaannya "berapa kali termuat": itu pembagian.', en: 'That multiplies, but the question asks "how many fit": that is division.' } }],
      hints: [bi((l) => l === 'id' ? `Dalam 1 kg ada ${d} kantong ${fr(pack, d)} kg.` : `1 kg fills ${d} bags of ${fr(pack, d)} kg.`)],
      solution: bi((l) => l === 'id'
        ? `${dec(amount, 'id')} : ${fr(pack, d)} = ${dec(amount, 'id')} × ${d} = ${bags} kantong.`
        : `${dec(amount, 'en')} ÷ ${fr(pack, d)} = ${dec(amount, 'en')} × ${d} = ${bags} bags.`),
    });
  },
  (r) => {
    const [a, b] = pick(r, [[3, 4], [2, 3], [5, 6], [1, 2]] as const);
    const [c, d] = pick(r, [[1, 8], [1, 6], [1, 12], [1, 4]] as const);
    const [qn, qd] = simplest(a * d, b * c);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Ada ${fr(a, b)} loyang nasi kuning untuk syukuran. Setiap tamu mendapat ${fr(c, d)} loyang. Berapa tamu yang mendapat nasi kuning?`
        : `There is ${fr(a, b)} of a tray of nasi kuning for the syukuran. Each guest gets ${fr(c, d)} of a tray. How many guests get some?`),
      correct: qd === 1 ? { id: String(qn), en: String(qn) } : frac(qn, qd),
      distractors: [
        { text: frac(...simplest(a * c, b * d)), feedback: { id: 'Itu hasil perkalian. Untuk "berapa bagian termuat" kita membagi.', en: 'That is the product. "How many portions fit" means dividing.' } },
        { text: frac(...simplest(b * c, a * d)), feedback: { id: 'Pecahan yang dibalik adalah pembaginya, bukan yang dibagi.', en: 'Flip the divisor, not the number being divided.' } },
      ],
      hints: [bi((l) => l === 'id' ? `Membagi dengan ${fr(c, d)} sama dengan mengalikan dengan ${fr(d, c)}.` : `Dividing by ${fr(c, d)} is the same as multiplying by ${fr(d, c)}.`)],
      solution: bi((l) => `${fr(a, b)} : ${fr(c, d)} = ${fr(a, b)} × ${fr(d, c)} = ${fr(a * d, b * c)}${qd === 1 ? ` = ${qn}` : ''} ${l === 'id' ? 'tamu' : 'guests'}.`),
    });
  },
];

// ------------------------------------------------------------------ decimal place value

const placeValue: Template[] = [
  (r) => {
    const whole = int(r, 1, 9);
    const t = int(r, 1, 9);
    const h = (t + int(r, 1, 8)) % 10 || 1;
    const x = whole + t / 10 + h / 100;
    const item = pick(r, [{ id: 'daging ayam', en: 'chicken' }, { id: 'bawang merah', en: 'shallots' }, { id: 'tepung terigu', en: 'wheat flour' }]);
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `Timbangan di pasar menunjukkan ${dec(x, 'id', 2)} kg ${item.id}. Angka ${t} pada bilangan itu bernilai …`
        : `The market scale shows ${dec(x, 'en', 2)} kg of ${item.en}. In that number, the digit ${t} is worth …`),
      correct: { id: `${t} persepuluh (${dec(t / 10, 'id')})`, en: `${count(t, 'tenth')} (${dec(t / 10, 'en')})` },
      distractors: [
        { text: { id: `${t} perseratus (${dec(t / 100, 'id')})`, en: `${count(t, 'hundredth')} (${dec(t / 100, 'en')})` }, feedback: { id: 'Angka pertama di belakang koma adalah persepuluhan.', en: 'The first digit after the decimal point is tenths.' } },
        { text: { id: `${t} satuan`, en: `${t} ones` }, feedback: { id: 'Satuan ada di depan koma.', en: 'The ones are before the decimal point.' } },
        { text: { id: `${t} puluhan`, en: `${t} tens` }, feedback: { id: 'Puluhan ada di depan koma, dua tempat ke kiri.', en: 'Tens are before the decimal point, two places to the left.' } },
      ],
      hints: [{ id: 'Tempat pertama di belakang koma: persepuluhan. Tempat kedua: perseratusan.', en: 'First place after the point: tenths. Second place: hundredths.' }],
      solution: bi((l) => l === 'id'
        ? `${dec(x, 'id', 2)} = ${whole} + ${dec(t / 10, 'id')} + ${dec(h / 100, 'id')}. Angka ${t} ada di tempat persepuluhan, nilainya ${dec(t / 10, 'id')}.`
        : `${dec(x, 'en', 2)} = ${whole} + ${dec(t / 10, 'en')} + ${dec(h / 100, 'en')}. The ${t} is in the tenths place, worth ${dec(t / 10, 'en')}.`),
    });
  },
  (r) => {
    const whole = int(r, 0, 5);
    const t = int(r, 0, 9);
    const h = int(r, 1, 9);
    const x = whole + t / 10 + h / 100;
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Tinggi tanaman kacang hijau di kebun madrasah adalah ${whole} meter, ${t} persepuluh meter, dan ${h} perseratus meter. Tulis tingginya sebagai bilangan desimal (meter).`
        : `The mung bean plant in the madrasah garden is ${count(whole, 'metre')}, ${count(t, 'tenth')} of a metre and ${count(h, 'hundredth')} of a metre tall. Write its height as a decimal (metres).`),
      value: x,
      unit: 'm',
      wrong: [{ value: whole + t / 10 + h / 10, feedback: { id: 'Perseratusan ditulis di tempat kedua di belakang koma.', en: 'Hundredths go in the second place after the point.' } }],
      hints: [{ id: 'Satuan . persepuluhan perseratusan', en: 'ones . tenths hundredths' }],
      solution: bi((l) => `${whole} + ${dec(t / 10, l)} + ${dec(h / 100, l)} = ${dec(x, l, 2)} m.`),
    });
  },
];

// ------------------------------------------------------------------ fractions and decimals

const toDecimal: Template[] = [
  (r) => {
    const [a, b] = pick(r, [[1, 2], [1, 4], [3, 4], [1, 5], [2, 5], [3, 5], [4, 5], [1, 8], [3, 8], [7, 10], [9, 20], [13, 25]] as const);
    const thing = pick(r, [{ id: 'liter minyak goreng', en: 'litre of cooking oil' }, { id: 'kg telur', en: 'kg of eggs' }, { id: 'meter pita', en: 'metre of ribbon' }]);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Label di warung tertulis ${fr(a, b)} ${thing.id}. Tulis ${fr(a, b)} sebagai bilangan desimal.`
        : `The label at the warung says ${fr(a, b)} ${thing.en}. Write ${fr(a, b)} as a decimal.`),
      value: value(a, b),
      wrong: [{ value: Number(`${a}.${b}`), feedback: { id: 'Pecahan bukan "pembilang koma penyebut". Bagi pembilang dengan penyebut.', en: 'A fraction is not "numerator point denominator". Divide the numerator by the denominator.' } }],
      hints: [bi((l) => l === 'id' ? `Ubah ke penyebut 10, 100, atau 1000, atau hitung ${a} : ${b}.` : `Change to a denominator of 10, 100 or 1000, or work out ${a} ÷ ${b}.`)],
      solution: bi((l) => `${fr(a, b)} = ${a} ${l === 'id' ? ':' : '÷'} ${b} = ${dec(value(a, b), l)}.`),
    });
  },
  (r) => {
    const [n, d] = pick(r, [[6, 10], [25, 100], [75, 100], [4, 10], [8, 10], [5, 10], [35, 100], [12, 100]] as const);
    const [sn, sd] = simplest(n, d);
    return shortanswer({
      stem: bi((l) => l === 'id'
        ? `Hasil panen cabai Pak Darto hari ini ${dec(n / d, 'id')} kuintal. Tulis ${dec(n / d, 'id')} sebagai pecahan paling sederhana (misalnya 3/5).`
        : `Pak Darto harvested ${dec(n / d, 'en')} quintal of chillies today. Write ${dec(n / d, 'en')} as a fraction in simplest form (for example 3/5).`),
      answers: [`${sn}/${sd}`, `${sn} / ${sd}`],
      wrong: sn !== n ? [{ text: `${n}/${d}`, feedback: { id: 'Benar nilainya, tetapi sederhanakan lagi.', en: 'Right value, but simplify it further.' } }] : [],
      hints: [bi((l) => l === 'id' ? `${dec(n / d, 'id')} = ${fr(n, d)}. Sederhanakan.` : `${dec(n / d, 'en')} = ${fr(n, d)}. Now simplify.`)],
      solution: bi((l) => `${dec(n / d, l)} = ${fr(n, d)} = ${fr(sn, sd)}.`),
    });
  },
];

// ------------------------------------------------------------------ comparing decimals

const comparingDecimals: Template[] = [
  (r) => {
    const [x, y] = pick(r, [[0.5, 0.45], [0.8, 0.75], [1.2, 1.15], [0.3, 0.25], [2.4, 2.35], [0.6, 0.55], [0.9, 0.875]] as const);
    const swap = r() < 0.5;
    const [p, q] = swap ? [y, x] : [x, y];
    const [a, b] = two(r);
    const winner = p > q ? a : b;
    const loser = p > q ? b : a;
    return multichoice(r, {
      stem: bi((l) => l === 'id'
        ? `${a} membeli ${dec(p, 'id')} kg jeruk dan ${b} membeli ${dec(q, 'id')} kg jeruk. Siapa yang membeli lebih berat?`
        : `${a} buys ${dec(p, 'en')} kg of oranges and ${b} buys ${dec(q, 'en')} kg. Who bought more?`),
      correct: { id: winner, en: winner },
      distractors: [
        { text: { id: loser, en: loser }, feedback: { id: 'Lebih banyak angka di belakang koma tidak berarti lebih besar. Bandingkan persepuluhannya dulu.', en: 'More digits after the point does not mean bigger. Compare the tenths first.' } },
        { text: { id: 'Sama berat', en: 'The same weight' }, feedback: { id: 'Tulis keduanya dengan dua angka di belakang koma, lalu bandingkan.', en: 'Write both with two decimal places, then compare.' } },
      ],
      hints: [bi((l) => l === 'id'
        ? `Tulis keduanya dengan tiga angka di belakang koma: ${p.toFixed(3).replace('.', ',')} dan ${q.toFixed(3).replace('.', ',')}.`
        : `Write both with three decimal places: ${p.toFixed(3)} and ${q.toFixed(3)}.`)],
      solution: bi((l) => `${dec(Math.max(p, q), l)} > ${dec(Math.min(p, q), l)}, ${l === 'id' ? 'jadi' : 'so'} ${winner} ${l === 'id' ? 'membeli lebih berat' : 'bought more'}.`),
    });
  },
  (r) => {
    const sets = [[0.4, 0.35, 0.5], [1.25, 1.3, 1.2], [0.7, 0.65, 0.08], [2.05, 2.5, 2.15]] as const;
    const xs = [...pick(r, sets)];
    const sorted = [...xs].sort((p, q) => p - q);
    const claimSorted = r() < 0.5;
    const shown = claimSorted ? sorted : [...xs];
    const isSorted = shown.every((v, i) => i === 0 || shown[i - 1]! <= v);
    return truefalse({
      stem: bi((l) => l === 'id'
        ? `Panjang tiga pita untuk hiasan kelas (meter): ${shown.map((v) => dec(v, 'id')).join('; ')}. Benarkah urutan itu dari yang terpendek ke yang terpanjang?`
        : `The lengths of three ribbons for decorating the classroom (metres): ${shown.map((v) => dec(v, 'en')).join('; ')}. Are they in order from shortest to longest?`),
      answer: isSorted,
      whenWrong: { id: 'Bandingkan satuan dulu, lalu persepuluhan, lalu perseratusan.', en: 'Compare the ones first, then the tenths, then the hundredths.' },
      hints: [{ id: 'Tulis semua dengan dua angka di belakang koma.', en: 'Write them all with two decimal places.' }],
      solution: bi((l) => `${l === 'id' ? 'Urutan yang benar' : 'The correct order'}: ${sorted.map((v) => dec(v, l)).join(' < ')}.`),
    });
  },
];

// ------------------------------------------------------------------ adding and subtracting decimals

const decimalSums: Template[] = [
  (r) => {
    const a = int(r, 11, 39) / 10;
    const b = int(r, 105, 275) / 100;
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Bu Guru membeli ${dec(a, 'id')} m kain untuk taplak dan ${dec(b, 'id', 2)} m kain untuk gorden kelas. Berapa meter kain seluruhnya?`
        : `The teacher buys ${dec(a, 'en')} m of cloth for a tablecloth and ${dec(b, 'en', 2)} m for the classroom curtains. How many metres is that in total?`),
      value: Math.round((a + b) * 100) / 100,
      unit: 'm',
      wrong: [{ value: Math.round((a / 10 + b) * 1000) / 1000, feedback: { id: 'Koma harus sejajar: persepuluhan dengan persepuluhan.', en: 'Line up the decimal points: tenths under tenths.' } }],
      hints: [bi((l) => l === 'id' ? `Tulis ${dec(a, 'id')} sebagai ${a.toFixed(2).replace('.', ',')} lalu jumlahkan bersusun.` : `Write ${dec(a, 'en')} as ${a.toFixed(2)}, then add in columns.`)],
      solution: bi((l) => `${l === 'id' ? a.toFixed(2).replace('.', ',') : a.toFixed(2)} + ${dec(b, l, 2)} = ${dec(a + b, l, 2)} m.`),
    });
  },
  (r) => {
    const price = int(r, 3, 9) * 1000 + pick(r, [0, 500]);
    const kg = pick(r, [0.5, 1.5, 2.5, 0.25]);
    const cost = price * kg;
    const paidFor = Math.floor(cost / 10000) * 10000 + 10000;
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Harga ikan tongkol ${rp(price, 'id')} per kg. Ibu membeli ${dec(kg, 'id')} kg dan membayar dengan uang ${rp(paidFor, 'id')}. Berapa rupiah kembaliannya?`
        : `Mackerel tuna costs ${rp(price, 'en')} per kg. Mum buys ${dec(kg, 'en')} kg and pays with a ${rp(paidFor, 'en')} note. How much change does she get (in rupiah)?`),
      value: paidFor - cost,
      unit: 'Rp',
      wrong: [{ value: cost, feedback: { id: 'Itu harga ikannya. Kembalian = uang yang dibayar − harga.', en: 'That is the price of the fish. Change = money paid − price.' } }],
      hints: [bi((l) => l === 'id' ? `Harga ikan: ${rp(price, 'id')} × ${dec(kg, 'id')}.` : `Price of the fish: ${rp(price, 'en')} × ${dec(kg, 'en')}.`)],
      solution: bi((l) => `${rp(price, l)} × ${dec(kg, l)} = ${rp(cost, l)}; ${rp(paidFor, l)} − ${rp(cost, l)} = ${rp(paidFor - cost, l)}.`),
    });
  },
];

// ------------------------------------------------------------------ percentages

const percentages: Template[] = [
  (r) => {
    const pct = pick(r, [10, 20, 25, 50, 15, 30]);
    const price = pick(r, [20000, 40000, 60000, 80000, 120000]);
    const thing = pick(r, [{ id: 'baju koko', en: 'a baju koko shirt' }, { id: 'tas sekolah', en: 'a school bag' }, { id: 'sepatu', en: 'a pair of shoes' }, { id: 'mukena', en: 'a mukena' }]);
    return numeric({
      stem: bi((l) => l === 'id'
        ? `Menjelang Lebaran, toko memberi diskon ${pct}% untuk ${thing.id} seharga ${rp(price, 'id')}. Berapa rupiah potongan harganya?`
        : `Before Lebaran, a shop takes ${pct}% off ${thing.en} priced at ${rp(price, 'en')}. How many rupiah is the discount?`),
      value: (price * pct) / 100,
      unit: 'Rp',
      wrong: [{ value: price - (price * pct) / 100, feedback: { id: 'Itu harga setelah diskon. Pertanyaannya besar potongannya.', en: 'That is the price after the discount. The question asks for the discount itself.' } }],
      hints: [bi((l) => l === 'id' ? `${pct}% = ${fr(pct, 100)}. Cari 1% dulu: ${rp(price, 'id')} : 100.` : `${pct}% = ${fr(pct, 100)}. Find 1% first: ${rp(price, 'en')} ÷ 100.`)],
      solution: bi((l) => `${pct}% × ${rp(price, l)} = ${fr(pct, 100)} × ${price} = ${rp((price * pct) / 100, l)}.`),
    });
  },
  (r) => {
    const [a, b] = pick(r, [[1, 4], [3, 4], [1, 5], [2, 5], [1, 2], [7, 10], [3, 20], [9, 25]] as const);
    const pct = (a / b) * 100;
    return numeric({
      stem: bi((l) => l === 'id'
        ? `${fr(a, b)} dari siswa madrasah datang dengan bersepeda. Berapa persen siswa yang bersepeda?`
        : `${fr(a, b)} of the madrasah's students come by bicycle. What percentage of the students cycle?`),
      value: pct,
      unit: '%',
      wrong: [{ value: a / b, feedback: { id: 'Itu bentuk desimalnya. Persen berarti per seratus: kalikan dengan 100.', en: 'That is the decimal. Percent means per hundred: multiply by 100.' } }],
      hints: [bi((l) => l === 'id' ? `Ubah ${fr(a, b)} menjadi pecahan berpenyebut 100.` : `Change ${fr(a, b)} into a fraction with denominator 100.`)],
      solution: bi(() => `${fr(a, b)} = ${fr(pct, 100)} = ${pct}%.`),
    });
  },
  (r) => {
    const pct = pick(r, [25, 50, 75, 20, 40]);
    const [n, d] = simplest(pct, 100);
    const options = [
      { text: frac(n, d), correct: true },
      { text: bi((l) => dec(pct / 100, l)), correct: true },
      { text: frac(pct, 10), correct: false, feedback: { id: 'Persen berarti per seratus, bukan per sepuluh.', en: 'Percent means per hundred, not per ten.' } },
      { text: bi((l) => dec(pct, l)), correct: false, feedback: { id: `${pct} adalah ${pct * 100}%, bukan ${pct}%.`, en: `${pct} is ${pct * 100}%, not ${pct}%.` } },
    ];
    return multiresponse({
      stem: bi((l) => l === 'id'
        ? `Baterai ponsel Kakak tinggal ${pct}%. Bilangan mana saja yang sama dengan ${pct}%?`
        : `Big sister's phone battery is at ${pct}%. Which numbers are equal to ${pct}%?`),
      choices: options,
      hints: [bi(() => `${pct}% = ${fr(pct, 100)}.`)],
      solution: bi((l) => `${pct}% = ${fr(pct, 100)} = ${fr(n, d)} = ${dec(pct / 100, l)}.`),
    });
  },
];

/** Templates for every skill of the sample bank, by skill code. */
export const TEMPLATES: Record<string, Template[]> = {
  'pecahan-bagian': partsOfWhole,
  'pecahan-senilai': equivalent,
  'menyederhanakan-pecahan': simplifying,
  'membandingkan-pecahan': comparingFractions,
  'pecahan-campuran': mixedNumbers,
  'jumlah-penyebut-sama': sameDenominator,
  'jumlah-penyebut-beda': differentDenominators,
  'pecahan-dari-banyaknya': ofQuantity,
  'perkalian-pecahan': multiplying,
  'pembagian-pecahan': dividing,
  'nilai-tempat-desimal': placeValue,
  'pecahan-ke-desimal': toDecimal,
  'membandingkan-desimal': comparingDecimals,
  'operasi-desimal': decimalSums,
  persen: percentages,
};
