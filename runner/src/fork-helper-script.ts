// The fork helper's program (see fork-helper.ts). Perl, because it is on every host a POSIX
// shell is on in practice (Debian's perl-base is Essential) and, unlike `sh`, it can report how
// a process ended exactly: `sh`'s `wait` says 130 both for `exit 130` and for SIGINT. It uses
// only the core POSIX module, forks nothing but steps, and holds no state but its live steps.
//
// Requests, on stdin: "<length>\n<fields>", the fields NUL-separated (no argv or environment
// entry can hold a NUL): id, working directory, direct name, argument count, file, arguments,
// "K=V"... The direct name is empty for a step run through its shell (a failed exec is an "E"
// report: the shell itself could not start); for a command exec'd without its shell it is the
// command as written, and a failed exec answers as the shell would (direct-exec.ts): a line
// "dagflare: NAME: ..." on the step's stderr and exit status 127 (not found) or 126. A request
// of the id alone starts nothing: the runner could not open that id's pipes and skips it.
// Reports, on stdout, one line each (short enough for the pipe to keep them whole):
//   "R id"              the output pipes of every id up to this one are made
//   "S id pid"          forked: written by the child itself, before anything else it does
//   "F id message"      not forked: nothing ran
//   "E id message"      the child could not become the step (directory, exec)
//   "X id code signal"  reaped; code -1 when a signal ended it
// Each step's stdout and stderr are FIFOs in the helper's directory ("<id>.o", "<id>.e"), made
// AHEAD of the step (the next PAIRS_AHEAD ids'): the runner opens their read ends before it sends
// the request, so the helper opens the write ends at once (never blocking: a missing reader is an
// "F"), unlinks the names and forks a child that has only to dup2 them and exec. The helper's
// own environment is set to the step's before the fork, changing only the variables that differ
// from the step before, so the child has nothing to build.
// On end of file on stdin (the runner is gone or stopping) it SIGKILLs every live step's group,
// reports their ends and exits.
export const FORK_HELPER_SCRIPT = String.raw`
use strict;
use warnings;
use POSIX ();
my ($dir, $first) = @ARGV;
my %live;
sub say_ { my $line = shift; syswrite(STDOUT, $line) }
# A write to a runner that is gone fails (EPIPE) instead of killing the helper, which must still
# kill its steps. A handler, not 'IGNORE': exec resets a handled signal, so a step starts with
# SIGPIPE's default without its child touching it.
$SIG{PIPE} = sub {};
# Perl's fork gives the child the helper's signal mask: only a mask inherited from whatever
# started the helper (not Node's spawn, which clears it) needs clearing in each child.
my $inherited_mask = POSIX::SigSet->new();
POSIX::sigprocmask(POSIX::SIG_BLOCK(), POSIX::SigSet->new(), $inherited_mask);
my $no_signals = POSIX::SigSet->new();
my $masked = grep { $inherited_mask->ismember($_) > 0 } 1 .. 64;
# Opened once, close-on-exec (Perl sets it above fd 2): what every child needs before its exec.
open(my $devnull, '<', '/dev/null') or die "fork helper: /dev/null: $!\n";
open(my $report, '>&', \*STDOUT) or die "fork helper: stdout: $!\n";
# Called by the read loop and by SIGCHLD, whose handler Perl may run between any two of the
# loop's operations: a nested call returns at once (the outer one reaps on, and the loop's
# next pass catches what it missed), so no waitpid's $? is overwritten by another's.
my $reaping = 0;
# Children reaped before fork() returned their pid to us (a step can end that fast): pid => status.
my %early;
sub reap {
  return if $reaping;
  $reaping = 1;
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $id = delete $live{$pid};
    if (defined $id) { ended($id, $?) } else { $early{$pid} = $? }
  }
  $reaping = 0;
}
sub ended {
  my ($id, $status) = @_;
  my $sig = $status & 127;
  say_($sig ? "X $id -1 $sig\n" : "X $id " . ($status >> 8) . " 0\n");
}
$SIG{CHLD} = \&reap;
# Output pipes are made this many ids ahead, so a burst of starts finds them ready.
my $PAIRS_AHEAD = 16;
my $made = $first - 1;
sub make_ahead {
  my $upto = shift;
  my $before = $made;
  while ($made < $upto) {
    my $id = $made + 1;
    # A pair that cannot be made is reported at its start: its reader cannot open.
    POSIX::mkfifo("$dir/$id.o", 0600) && POSIX::mkfifo("$dir/$id.e", 0600);
    $made = $id;
  }
  say_("R $made\n") if $made > $before;
}
sub open_writer {
  my $file = shift;
  # Non-blocking, so a pipe whose reader is not open fails (ENXIO) instead of hanging the
  # helper; then blocking again, as a step expects its stdout to be.
  sysopen(my $fh, $file, POSIX::O_WRONLY() | POSIX::O_NONBLOCK()) or return;
  my $flags = fcntl($fh, POSIX::F_GETFL(), 0) or return;
  fcntl($fh, POSIX::F_SETFL(), $flags & ~POSIX::O_NONBLOCK()) or return;
  return $fh;
}
# The environment as last set, its entries as the runner sent them ("K=V"). Consecutive steps
# mostly share their variables, in the same order: then only the values that differ are set.
# Undefined until the first step: the helper's own environment is not a step's.
my $env_now;
sub name_of { substr($_[0], 0, index($_[0], '=')) }
sub set_env {
  my $want = shift;
  if ($env_now && @$want == @$env_now) {
    my @changed = grep { $want->[$_] ne $env_now->[$_] } 0 .. $#$want;
    if (!grep { name_of($want->[$_]) ne name_of($env_now->[$_]) } @changed) {
      for (@changed) { my ($k, $v) = split(/=/, $want->[$_], 2); $ENV{$k} = $v }
      $env_now = $want;
      return;
    }
  }
  %ENV = map { split(/=/, $_, 2) } @$want;
  $env_now = $want;
}
sub start {
  run_step(@_);
  # Off the step's path: it is running by now (or never will). Half the pairs at a time, so one
  # "R" in PAIRS_AHEAD / 2 starts wakes the runner.
  make_ahead($_[0] + $PAIRS_AHEAD) if $made - $_[0] < $PAIRS_AHEAD / 2;
}
sub run_step {
  my ($id, $cwd, $direct, $argc, @rest) = @_;
  my ($out, $err) = ("$dir/$id.o", "$dir/$id.e");
  return unlink($out, $err) unless defined $cwd;
  my @argv = splice(@rest, 0, $argc);
  my $out_w = open_writer($out);
  my $err_w = $out_w && open_writer($err);
  my $why = "$!";
  unlink $out, $err;
  return say_("F $id could not open its output pipes: $why\n") unless $err_w;
  set_env(\@rest);
  my $pid = fork();
  return say_("F $id could not fork: $!\n") unless defined $pid;
  if ($pid == 0) {
    POSIX::setsid();
    # The runner hears of this process from the process itself, before it runs anything of the
    # step's: if the helper dies now, the runner still knows what to kill. (A report is one
    # write, shorter than a pipe's atomic size: it never mixes with the helper's.)
    syswrite($report, "S $id $$\n") or POSIX::_exit(127);
    # As spawn does: the step starts with no signal blocked, whatever the helper inherited.
    POSIX::sigprocmask(POSIX::SIG_SETMASK(), $no_signals) if $masked;
    chdir($cwd) or fail($id, "working directory $cwd: $!");
    # dup2 clears close-on-exec on the copy: these three, and nothing else of the helper's, pass.
    defined POSIX::dup2(fileno($devnull), 0) && defined POSIX::dup2(fileno($out_w), 1)
      && defined POSIX::dup2(fileno($err_w), 2) or fail($id, "output pipes: $!");
    # Without the shell, argv[0] is still the word as written, as the shell would pass it.
    { no warnings 'exec'; exec { $argv[0] } length $direct ? ($direct, @argv[1 .. $#argv]) : @argv; }
    fail($id, "$!") unless length $direct;
    my $notfound = $!{ENOENT};
    my $why = $notfound && index($direct, '/') < 0 ? 'command not found' : "$!";
    syswrite(STDERR, "dagflare: $direct: $why\n");
    POSIX::_exit($notfound ? 127 : 126);
  }
  close $out_w;
  close $err_w;
  $live{$pid} = $id;
  ended(delete $live{$pid}, delete $early{$pid}) if exists $early{$pid};
}
sub fail { syswrite($report, "E $_[0] $_[1]\n"); POSIX::_exit(127) }
make_ahead($first + $PAIRS_AHEAD - 1);
my $buf = '';
my $stdin = '';
vec($stdin, fileno(STDIN), 1) = 1;
for (;;) {
  # Perl runs a signal's handler between its own operations: a SIGCHLD that lands after the
  # last check and before the read blocks would wait for the next request, which in a chain
  # waits for this very exit. So while steps are alive, wake at least every 50 ms and reap.
  my $ready = select(my $readable = $stdin, undef, undef, %live ? 0.05 : undef);
  my $interrupted = $ready < 0 && $!{EINTR};
  reap() if %live;
  next if $ready == 0 || $interrupted;
  last if $ready < 0;
  my $n = sysread(STDIN, $buf, 65536, length $buf);
  if (!defined $n) { next if $!{EINTR}; last }
  last if $n == 0;
  while ($buf =~ /\A(\d+)\n/ && length($buf) >= length($1) + 1 + $1) {
    my $len = $1;
    my $req = substr($buf, length($len) + 1, $len);
    substr($buf, 0, length($len) + 1 + $len) = '';
    start(split(/\0/, $req, -1));
  }
}
kill('KILL', -$_) for keys %live;
# Reaped and reported, so a runner that is only stopping hears how its steps ended.
$SIG{CHLD} = 'DEFAULT';
while (%live) {
  my $pid = waitpid(-1, 0);
  last if $pid <= 0;
  my $id = delete $live{$pid};
  say_("X $id -1 " . ($? & 127) . "\n") if defined $id;
}
# Its directory goes with it, whether or not the runner is still there to remove it.
if (opendir(my $d, $dir)) { unlink(map { "$dir/$_" } grep { !/^\.\.?$/ } readdir($d)); closedir($d) }
rmdir($dir);
`;
