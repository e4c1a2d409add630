import { expect } from 'chai';
import { audienceOf } from '../../src/lti/roles';

const M = 'http://purl.imsglobal.org/vocab/lis/v2/membership#';
const INSTITUTION = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#';
const SYSTEM = 'http://purl.imsglobal.org/vocab/lis/v2/system/person#';

describe('roles → audience', () => {
  it('makes a teacher of context roles that teach or administer the course, full, sub-role or short', () => {
    expect(audienceOf([`${M}Instructor`])).to.equal('teacher');
    expect(audienceOf(['http://purl.imsglobal.org/vocab/lis/v2/membership/Instructor#TeachingAssistant'])).to.equal('teacher');
    expect(audienceOf([`${M}ContentDeveloper`])).to.equal('teacher');
    expect(audienceOf([`${M}Administrator`])).to.equal('teacher');
    expect(audienceOf([`${M}Learner`, `${M}Instructor`])).to.equal('teacher');
    expect(audienceOf(['Instructor'])).to.equal('teacher');
    expect(audienceOf(['Instructor#TeachingAssistant'])).to.equal('teacher');
    // What Moodle sends a site administrator: Instructor (they may manage every activity) and the two admin roles.
    expect(audienceOf([`${M}Instructor`, `${INSTITUTION}Administrator`, `${SYSTEM}Administrator`])).to.equal('teacher');
  });

  it('never makes a teacher of institution or system roles: the course role decides', () => {
    expect(audienceOf([`${INSTITUTION}Administrator`])).to.equal('none');
    expect(audienceOf([`${INSTITUTION}Instructor`])).to.equal('none');
    expect(audienceOf([`${INSTITUTION}Faculty`])).to.equal('none');
    expect(audienceOf([`${SYSTEM}Administrator`])).to.equal('none');
    expect(audienceOf([`${SYSTEM}SysAdmin`, `${INSTITUTION}Administrator`])).to.equal('none');
    expect(audienceOf([`${M}Learner`, `${INSTITUTION}Instructor`])).to.equal('student');
    expect(audienceOf([`${M}Learner`, `${INSTITUTION}Administrator`, `${SYSTEM}Administrator`])).to.equal('student');
  });

  it('sends learners to practice, mentors to their read-only page, and gives nothing to guests and unknown roles', () => {
    expect(audienceOf([`${M}Learner`])).to.equal('student');
    expect(audienceOf(['Learner'])).to.equal('student');
    expect(audienceOf(['http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#NonCreditLearner', `${M}Learner`])).to.equal('student');
    expect(audienceOf([`${M}Mentor`])).to.equal('mentor');
    expect(audienceOf(['Mentor'])).to.equal('mentor');
    expect(audienceOf(['http://purl.imsglobal.org/vocab/lis/v2/membership/Mentor#Advisor'])).to.equal('mentor');
    expect(audienceOf([`${M}Learner`, 'http://purl.imsglobal.org/vocab/lis/v2/membership/Learner#GuestLearner'])).to.equal('none');
    expect(audienceOf([`${INSTITUTION}Guest`])).to.equal('none');
    expect(audienceOf(['Guest'])).to.equal('none');
    expect(audienceOf([`${M}Member`, `${M}Manager`])).to.equal('none');
    expect(audienceOf(['https://example.org/roles#Instructor', 'urn:school:teacher'])).to.equal('none');
    expect(audienceOf([])).to.equal('none');
  });
});
