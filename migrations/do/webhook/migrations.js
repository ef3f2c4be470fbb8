import journal from './meta/_journal.json';
import m0000 from './0000_married_gargoyle.sql';

  export default {
    journal,
    migrations: {
      m0000
    }
  }
  