# DBD::Pg catalog calls, for capture through the logging proxy. usage: perl clients.pl PORT
use strict;
use DBI;
my $dbh = DBI->connect("dbi:Pg:host=127.0.0.1;port=$ARGV[0];dbname=segtasks", 'admin', 'x', { RaiseError => 0, PrintError => 1 });
sub rows { my $sth = shift; return $sth ? scalar @{ $sth->fetchall_arrayref } : 'error' }
print rows($dbh->table_info(undef, 'sys', '%', 'TABLE')), "\n";
print rows($dbh->table_info(undef, '%', undef, undef)), "\n";
print rows($dbh->column_info(undef, 'sys', 'tasks', '%')), "\n";
print rows($dbh->primary_key_info(undef, 'sys', 'segments')), "\n";
print join(',', $dbh->primary_key(undef, 'sys', 'tasks')), "\n";
print rows($dbh->foreign_key_info(undef, 'sys', 'tasks', undef, 'sys', 'subtasks')), "\n";
print rows($dbh->foreign_key_info(undef, undef, undef, undef, 'sys', 'segments')), "\n";
print rows($dbh->statistics_info(undef, 'sys', 'tasks', 0, 0)), "\n";
print rows($dbh->type_info_all ? $dbh->prepare('SELECT 1') : undef), "\n";
my $sth = $dbh->prepare('SELECT name FROM sys.nodes WHERE name = ?');
$sth->execute('c1_n2');
print rows($sth), "\n";
$dbh->disconnect;
