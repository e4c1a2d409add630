import type { Bi } from './build';

/**
 * The sample bank's skills, with the Kurikulum Merdeka learning outcomes they serve (Capaian
 * Pembelajaran Matematika, element Bilangan), tagged by phase with a short paraphrase of the outcome:
 * phase C is grades 5–6, phase D grades 7–9.
 */
export interface SampleSkill {
  code: string;
  name: Bi;
  description: Bi;
  curriculum: { framework: 'Kurikulum Merdeka'; subject: 'Matematika'; element: 'Bilangan'; phase: 'C' | 'D'; outcome: Bi };
  prerequisites: string[];
}

const km = (phase: 'C' | 'D', outcome: Bi): SampleSkill['curriculum'] => ({ framework: 'Kurikulum Merdeka', subject: 'Matematika', element: 'Bilangan', phase, outcome });

const FRACTIONS_C: Bi = {
  id: 'Membandingkan dan mengurutkan pecahan, termasuk pecahan campuran, serta menjumlahkan dan mengurangkan pecahan.',
  en: 'Compare and order fractions, including mixed numbers, and add and subtract fractions.',
};
const TIMES_C: Bi = {
  id: 'Mengalikan dan membagi pecahan dengan bilangan asli, dan menghitung bagian dari suatu banyaknya.',
  en: 'Multiply and divide fractions by whole numbers, and find a fraction of a quantity.',
};
const DECIMALS_C: Bi = {
  id: 'Mengubah pecahan menjadi desimal, serta membandingkan, mengurutkan, dan menghitung dengan bilangan desimal.',
  en: 'Convert fractions to decimals, and compare, order and calculate with decimals.',
};
const RATIONAL_D: Bi = {
  id: 'Melakukan operasi hitung pada bilangan rasional (pecahan, desimal, persen) dan memakainya untuk menyelesaikan masalah sehari-hari.',
  en: 'Calculate with rational numbers (fractions, decimals, percentages) and use them to solve everyday problems.',
};

export const SAMPLE_SKILLS: SampleSkill[] = [
  {
    code: 'pecahan-bagian', prerequisites: [],
    name: { id: 'Pecahan sebagai bagian dari keseluruhan', en: 'Fractions as parts of a whole' },
    description: { id: 'Menuliskan bagian dari benda atau kelompok yang dibagi sama besar sebagai pecahan.', en: 'Write a part of an object or a group shared equally as a fraction.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'pecahan-senilai', prerequisites: ['pecahan-bagian'],
    name: { id: 'Pecahan senilai', en: 'Equivalent fractions' },
    description: { id: 'Mengenali dan membuat pecahan yang nilainya sama.', en: 'Recognise and make fractions of equal value.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'menyederhanakan-pecahan', prerequisites: ['pecahan-senilai'],
    name: { id: 'Menyederhanakan pecahan', en: 'Simplifying fractions' },
    description: { id: 'Menuliskan pecahan dalam bentuk paling sederhana dengan FPB.', en: 'Write a fraction in its simplest form using the greatest common factor.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'membandingkan-pecahan', prerequisites: ['pecahan-senilai'],
    name: { id: 'Membandingkan pecahan', en: 'Comparing fractions' },
    description: { id: 'Menentukan pecahan yang lebih besar atau lebih kecil dan mengurutkannya.', en: 'Decide which fraction is greater or smaller, and order fractions.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'pecahan-campuran', prerequisites: ['pecahan-bagian'],
    name: { id: 'Pecahan campuran dan pecahan biasa', en: 'Mixed numbers and improper fractions' },
    description: { id: 'Mengubah pecahan campuran menjadi pecahan biasa dan sebaliknya.', en: 'Change mixed numbers into improper fractions and back.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'jumlah-penyebut-sama', prerequisites: ['pecahan-bagian'],
    name: { id: 'Menjumlahkan dan mengurangkan pecahan berpenyebut sama', en: 'Adding and subtracting fractions with the same denominator' },
    description: { id: 'Menjumlahkan dan mengurangkan pecahan yang penyebutnya sama.', en: 'Add and subtract fractions that share a denominator.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'jumlah-penyebut-beda', prerequisites: ['jumlah-penyebut-sama', 'pecahan-senilai'],
    name: { id: 'Menjumlahkan dan mengurangkan pecahan berpenyebut beda', en: 'Adding and subtracting fractions with different denominators' },
    description: { id: 'Menyamakan penyebut lalu menjumlahkan atau mengurangkan.', en: 'Find a common denominator, then add or subtract.' },
    curriculum: km('C', FRACTIONS_C),
  },
  {
    code: 'pecahan-dari-banyaknya', prerequisites: ['pecahan-bagian'],
    name: { id: 'Pecahan dari suatu banyaknya', en: 'A fraction of a quantity' },
    description: { id: 'Menghitung bagian dari sejumlah uang, benda, atau orang.', en: 'Work out a fraction of an amount of money, things or people.' },
    curriculum: km('C', TIMES_C),
  },
  {
    code: 'perkalian-pecahan', prerequisites: ['pecahan-dari-banyaknya', 'menyederhanakan-pecahan'],
    name: { id: 'Perkalian pecahan', en: 'Multiplying fractions' },
    description: { id: 'Mengalikan pecahan dengan pecahan, misalnya setengah dari tiga perempat.', en: 'Multiply a fraction by a fraction, such as half of three quarters.' },
    curriculum: km('D', RATIONAL_D),
  },
  {
    code: 'pembagian-pecahan', prerequisites: ['perkalian-pecahan'],
    name: { id: 'Pembagian pecahan', en: 'Dividing fractions' },
    description: { id: 'Menentukan berapa kali suatu pecahan termuat dalam bilangan lain.', en: 'Find how many times a fraction fits into another number.' },
    curriculum: km('D', RATIONAL_D),
  },
  {
    code: 'nilai-tempat-desimal', prerequisites: ['pecahan-bagian'],
    name: { id: 'Nilai tempat bilangan desimal', en: 'Decimal place value' },
    description: { id: 'Memahami persepuluhan dan perseratusan dalam bilangan desimal.', en: 'Understand tenths and hundredths in decimal numbers.' },
    curriculum: km('C', DECIMALS_C),
  },
  {
    code: 'pecahan-ke-desimal', prerequisites: ['pecahan-senilai', 'nilai-tempat-desimal'],
    name: { id: 'Mengubah pecahan dan desimal', en: 'Converting fractions and decimals' },
    description: { id: 'Menuliskan pecahan sebagai desimal dan desimal sebagai pecahan.', en: 'Write fractions as decimals and decimals as fractions.' },
    curriculum: km('C', DECIMALS_C),
  },
  {
    code: 'membandingkan-desimal', prerequisites: ['nilai-tempat-desimal'],
    name: { id: 'Membandingkan bilangan desimal', en: 'Comparing decimals' },
    description: { id: 'Menentukan desimal yang lebih besar dengan melihat nilai tempat.', en: 'Decide which decimal is greater by looking at place value.' },
    curriculum: km('C', DECIMALS_C),
  },
  {
    code: 'operasi-desimal', prerequisites: ['nilai-tempat-desimal'],
    name: { id: 'Menjumlahkan dan mengurangkan desimal', en: 'Adding and subtracting decimals' },
    description: { id: 'Menghitung dengan ukuran dan harga yang memakai desimal.', en: 'Calculate with measures and prices written as decimals.' },
    curriculum: km('C', DECIMALS_C),
  },
  {
    code: 'persen', prerequisites: ['pecahan-ke-desimal', 'pecahan-dari-banyaknya'],
    name: { id: 'Persen', en: 'Percentages' },
    description: { id: 'Memahami persen sebagai per seratus dan menghitung persen dari suatu banyaknya.', en: 'Understand percent as per hundred and find a percentage of an amount.' },
    curriculum: km('D', RATIONAL_D),
  },
];
