// The fork helper's program (see fork-helper.ts). Perl, because it is on every host a POSIX
// shell is on in practice (Debian's perl-base is Essential) and, unlike `sh`, it can report how
// a process ended exactly: `sh`'s `wait` says 130 both for `exit 130` and for SIGINT. It uses
// only the core POSIX module, forks nothing but steps, and holds no state but its live steps.
//
// Requests, on stdin: "<length>\n<fields>", the fields NUL-separated (no argv or environment
// entry can hold a NUL): id, working directory, argument count, file, arguments, "K=V"...
// Reports, on stdout, one line each (short enough for the pipe to keep them whole):
//   "S id pid"          forked; the child waits for the helper's go before it does anything
//   "F id message"      not forked: nothing ran
//   "E id message"      the child could not become the step (pipes, directory, exec)
//   "X id code signal"  reaped; code -1 when a signal ended it
// Each step's stdout and stderr are FIFOs the helper makes in its directory ("<id>.o", "<id>.e")
// and the child opens for writing (blocking until the runner has opened them for reading, which
// it does once it reads "S") and then unlinks.
// On end of file on stdin (the runner is gone or stopping) it SIGKILLs every live step's group,
// reports their ends and exits.
export const FORK_HELPER_SCRIPT = String.raw`
use strict;
use warnings;
use POSIX ();
my $dir = shift @ARGV;
my %live;
sub say_ { my $line = shift; syswrite(STDOUT, $line) }
$SIG{PIPE} = 'IGNORE';
# Called by the read loop and by SIGCHLD, whose handler Perl may run between any two of the
# loop's operations: a nested call returns at once (the outer one reaps on, and the loop's
# next pass catches what it missed), so no waitpid's $? is overwritten by another's.
my $reaping = 0;
sub reap {
  return if $reaping;
  $reaping = 1;
  while ((my $pid = waitpid(-1, POSIX::WNOHANG())) > 0) {
    my $status = $?;
    my $id = delete $live{$pid};
    next unless defined $id;
    unlink "$dir/$id.o", "$dir/$id.e";
    my $sig = $status & 127;
    say_($sig ? "X $id -1 $sig\n" : "X $id " . ($status >> 8) . " 0\n");
  }
  $reaping = 0;
}
$SIG{CHLD} = \&reap;
sub start {
  my ($id, $cwd, $argc, @rest) = @_;
  my @argv = splice(@rest, 0, $argc);
  my ($out, $err) = ("$dir/$id.o", "$dir/$id.e");
  POSIX::mkfifo($out, 0600) && POSIX::mkfifo($err, 0600)
    or return say_("F $id could not make its output pipes: $!\n");
  my ($go_r, $go_w);
  pipe($go_r, $go_w) or return say_("F $id could not make a pipe: $!\n");
  my $pid = fork();
  if (!defined $pid) {
    unlink $out, $err;
    return say_("F $id could not fork: $!\n");
  }
  if ($pid == 0) {
    close $go_w;
    POSIX::setsid();
    # No go: the helper died before the runner heard of this process, so it must not run.
    my $go = '';
    POSIX::_exit(127) unless sysread($go_r, $go, 1) == 1;
    $SIG{$_} = 'DEFAULT' for qw(PIPE CHLD);
    # As spawn does: the step starts with no signal blocked, whatever the helper inherited.
    POSIX::sigprocmask(POSIX::SIG_SETMASK(), POSIX::SigSet->new());
    open(my $report, '>&', \*STDOUT) or POSIX::_exit(127);
    my $fail = sub { syswrite($report, "E $id $_[0]\n"); POSIX::_exit(127) };
    open(STDIN, '<', '/dev/null') or $fail->("/dev/null: $!");
    # Without O_CREAT: a FIFO that is gone is an error, not a new file the output vanishes into.
    sysopen(STDOUT, $out, POSIX::O_WRONLY()) or $fail->("stdout pipe: $!");
    sysopen(STDERR, $err, POSIX::O_WRONLY()) or $fail->("stderr pipe: $!");
    unlink $out, $err;
    chdir($cwd) or $fail->("working directory $cwd: $!");
    %ENV = map { split(/=/, $_, 2) } @rest;
    { no warnings 'exec'; exec { $argv[0] } @argv; }
    $fail->("$!");
  }
  close $go_r;
  $live{$pid} = $id;
  say_("S $id $pid\n");
  syswrite($go_w, 'g');
  close $go_w;
}
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
