# DBD::Pg's catalog methods on schema sys, every row and column printed as JSON (one object), so that the ava
# test (catalog-client-tools.test.ts) can compare segtasks with a real PostgreSQL 15 holding the same tables.
# usage: perl dbd_pg_catalog.pl PORT USER PASSWORD
use strict;
use warnings;
use DBI;
use JSON::PP;

my ($port, $user, $password) = @ARGV;
my $dbh = DBI->connect("dbi:Pg:host=127.0.0.1;port=$port;dbname=segtasks", $user, $password,
  { RaiseError => 1, PrintError => 0, AutoCommit => 1 });
my %out;
sub rows {
  my ($sth) = @_;
  return { columns => $sth->{NAME}, rows => $sth->fetchall_arrayref };
}
$out{table_info} = rows($dbh->table_info(undef, 'sys', '%', 'TABLE'));
$out{column_info} = rows($dbh->column_info(undef, 'sys', 'subtasks', '%'));
$out{primary_key_info} = rows($dbh->primary_key_info(undef, 'sys', 'segments'));
$out{primary_key} = [$dbh->primary_key(undef, 'sys', 'tasks')];
$out{foreign_key_info_pk} = rows($dbh->foreign_key_info(undef, 'sys', 'tasks', undef, undef, undef));
$out{foreign_key_info_fk} = rows($dbh->foreign_key_info(undef, undef, undef, undef, 'sys', 'segments'));
$out{foreign_key_info_both} = rows($dbh->foreign_key_info(undef, 'sys', 'tasks', undef, 'sys', 'subtasks'));
$out{statistics_info} = rows($dbh->statistics_info(undef, 'sys', 'tasks', 0, 0));
$out{statistics_info_unique} = rows($dbh->statistics_info(undef, 'sys', 'segments', 1, 0));
my $sth = $dbh->prepare('SELECT name, status FROM sys.nodes WHERE name IN (?) ORDER BY name');
$sth->execute('c1_n2');
$out{one_element_in} = $sth->fetchall_arrayref;
$dbh->disconnect;
print JSON::PP->new->canonical->encode(\%out), "\n";
