import { expect } from 'chai';
import { audienceOf } from '../../src/lti/roles';

const M = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';

describe('roles → audience', () => {
  it('sends instructors, teaching assistants and administrators to the teacher home', () => {
    expect(audienceOf([`${M}Instructor`])).to.equal('teacher');
    expect(audienceOf(['http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant'])).to.equal('teacher');
    expect(audienceOf(['http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator'])).to.equal('teacher');
    expect(audienceOf([`${M}Learner`, `${M}Instructor`])).to.equal('teacher');
    expect(audienceOf(['Instructor'])).to.equal('teacher');
  });

  it('sends learners to the student home, and gives no access to other roles', () => {
    expect(audienceOf([`${M}Learner`])).to.equal('student');
    expect(audienceOf(['Learner'])).to.equal('student');
    expect(audienceOf(['http://purl.imsglobal.org/vocab/lis/v2/institution/person#Guest'])).to.equal(undefined);
    expect(audienceOf([])).to.equal(undefined);
  });
});
