<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en" sourcelanguage="en">
<context>
    <name>DetailPane</name>
    <message>
        <source>Search file names</source>
        <extracomment>The filter buttons, left to right.</extracomment>
        <translation>Search file names</translation>
    </message>
    <message>
        <source>Task details: select a task above</source>
        <translation>Task details: select a task above</translation>
    </message>
    <message>
        <source>Task details: %1</source>
        <translation>Task details: %1</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>No file matches the search.</source>
        <translation>No file matches the search.</translation>
    </message>
    <message>
        <source>No files here.</source>
        <translation>No files here.</translation>
    </message>
    <message>
        <source>The files could not be read: %1</source>
        <translation>The files could not be read: %1</translation>
    </message>
</context>
<context>
    <name>ExportFolder</name>
    <message>
        <source>%1 is a file, not a folder.</source>
        <translation>%1 is a file, not a folder.</translation>
    </message>
    <message>
        <source>The folder cannot be created: %1 is a file.</source>
        <translation>The folder cannot be created: %1 is a file.</translation>
    </message>
    <message>
        <source>You cannot write to %1. Choose another folder.
(%2)</source>
        <translation>You cannot write to %1. Choose another folder.
(%2)</translation>
    </message>
</context>
<context>
    <name>FileTableModel</name>
    <message>
        <source>File</source>
        <extracomment>Rows per page (a screen shows a few dozen; a page is one index range scan).</extracomment>
        <translation>File</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Size</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>Version</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Failure reason</source>
        <translation>Failure reason</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>Attempts</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Switch user</source>
        <extracomment>The identity box&apos;s width, in characters (longer names are elided, whole in tooltips). :func:`url_problem`&apos;s answer for an address with a user name or password in it.</extracomment>
        <translation>Switch user</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>Sign in</translation>
    </message>
    <message>
        <source>Signed in now: %1 · %2</source>
        <translation>Signed in now: %1 · %2</translation>
    </message>
    <message>
        <source>https://wp.example.com</source>
        <translation>https://wp.example.com</translation>
    </message>
    <message>
        <source>&amp;Identity:</source>
        <translation>&amp;Identity:</translation>
    </message>
    <message>
        <source>&amp;Server:</source>
        <translation>&amp;Server:</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>&amp;User name:</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>&amp;Password:</translation>
    </message>
    <message>
        <source>Switch</source>
        <translation>Switch</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Enter the server address.</source>
        <translation>Enter the server address.</translation>
    </message>
    <message>
        <source>Leave the user name and password out of the server address: enter the address alone, your user name and password below.</source>
        <translation>Leave the user name and password out of the server address: enter the address alone, your user name and password below.</translation>
    </message>
    <message>
        <source>Enter your user name.</source>
        <translation>Enter your user name.</translation>
    </message>
    <message>
        <source>Enter your password.</source>
        <translation>Enter your password.</translation>
    </message>
    <message>
        <source>The server address is not valid. It starts with http:// or https:// and names the server, e.g. https://wp.example.com:8443</source>
        <translation>The server address is not valid. It starts with http:// or https:// and names the server, e.g. https://wp.example.com:8443</translation>
    </message>
    <message>
        <source>Stopped waiting for the server.</source>
        <translation>Stopped waiting for the server.</translation>
    </message>
    <message>
        <source>You have several identities. Choose one and sign in.</source>
        <translation>You have several identities. Choose one and sign in.</translation>
    </message>
    <message>
        <source>Wrong user name or password.</source>
        <translation>Wrong user name or password.</translation>
    </message>
    <message>
        <source>User %1 has no identity “%2”. Choose one of the user&apos;s identities.</source>
        <translation>User %1 has no identity “%2”. Choose one of the user&apos;s identities.</translation>
    </message>
    <message>
        <source>The server&apos;s certificate could not be verified, so the connection was not trusted. If your firm uses its own certificate authority, choose its CA file in the settings.
(%1)</source>
        <translation>The server&apos;s certificate could not be verified, so the connection was not trusted. If your firm uses its own certificate authority, choose its CA file in the settings.
(%1)</translation>
    </message>
    <message>
        <source>The secure connection (TLS) to %1 failed: the server&apos;s certificate could not be verified or the server does not speak TLS.
(%2)</source>
        <translation>The secure connection (TLS) to %1 failed: the server&apos;s certificate could not be verified or the server does not speak TLS.
(%2)</translation>
    </message>
    <message>
        <source>Cannot reach the server %1. Check the address and the network.
(%2)</source>
        <translation>Cannot reach the server %1. Check the address and the network.
(%2)</translation>
    </message>
    <message>
        <source>The connection to the server was interrupted or timed out. Try again.
(%1)</source>
        <translation>The connection to the server was interrupted or timed out. Try again.
(%1)</translation>
    </message>
    <message>
        <source>The server is temporarily unavailable (HTTP %1). Try again later.</source>
        <translation>The server is temporarily unavailable (HTTP %1). Try again later.</translation>
    </message>
    <message>
        <source>The server refused the sign-in (HTTP %1). Check the server address.
(%2)</source>
        <translation>The server refused the sign-in (HTTP %1). Check the server address.
(%2)</translation>
    </message>
    <message>
        <source>The server&apos;s answer was not understood; the address may not be a working-paper server.
(%1)</source>
        <translation>The server&apos;s answer was not understood; the address may not be a working-paper server.
(%1)</translation>
    </message>
    <message>
        <source>The sign-in failed.
(%1)</source>
        <translation>The sign-in failed.
(%1)</translation>
    </message>
    <message>
        <source>The task database on this computer cannot be opened.
(%1)</source>
        <translation>The task database on this computer cannot be opened.
(%1)</translation>
    </message>
    <message>
        <source>The CA file in the settings cannot be used, or the server address is not valid.
(%1)</source>
        <translation>The CA file in the settings cannot be used, or the server address is not valid.
(%1)</translation>
    </message>
    <message>
        <source>The sign-in failed unexpectedly.
(%1)</source>
        <translation>The sign-in failed unexpectedly.
(%1)</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Working-paper batch export</source>
        <extracomment>The widest the status bar&apos;s user, identity, server and queue fields get (pixels).</extracomment>
        <translation>Working-paper batch export</translation>
    </message>
    <message>
        <source>Toolbar</source>
        <translation>Toolbar</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>&amp;File</translation>
    </message>
    <message>
        <source>&amp;Task</source>
        <translation>&amp;Task</translation>
    </message>
    <message>
        <source>&amp;Account</source>
        <translation>&amp;Account</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>&amp;Help</translation>
    </message>
    <message>
        <source>Open &amp;log folder</source>
        <translation>Open &amp;log folder</translation>
    </message>
    <message>
        <source>&amp;About…</source>
        <translation>&amp;About…</translation>
    </message>
    <message>
        <source>Not signed in. Sign in to see your export tasks and continue them.</source>
        <translation>Not signed in. Sign in to see your export tasks and continue them.</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>Sign in…</translation>
    </message>
    <message>
        <source>No export tasks yet. Choose projects or folders to export to your computer.</source>
        <translation>No export tasks yet. Choose projects or folders to export to your computer.</translation>
    </message>
    <message>
        <source>Cannot open the log folder %1: %2</source>
        <translation>Cannot open the log folder %1: %2</translation>
    </message>
    <message>
        <source>Working-paper batch export (manuscript-gui) %1

Databases: %2
Settings: %3
Log: %4</source>
        <translation>Working-paper batch export (manuscript-gui) %1

Databases: %2
Settings: %3
Log: %4</translation>
    </message>
    <message>
        <source>About</source>
        <translation>About</translation>
    </message>
    <message>
        <source>User: %1</source>
        <translation>User: %1</translation>
    </message>
    <message>
        <source>Identity: %1</source>
        <translation>Identity: %1</translation>
    </message>
    <message>
        <source>Server: %1</source>
        <translation>Server: %1</translation>
    </message>
</context>
<context>
    <name>NewExportDialog</name>
    <message>
        <source>New export</source>
        <translation>New export</translation>
    </message>
    <message>
        <source>Search projects by name, code or client</source>
        <translation>Search projects by name, code or client</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>Reload</translation>
    </message>
    <message>
        <source>Project / folder</source>
        <translation>Project / folder</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>Details</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>Export &amp;to:</source>
        <translation>Export &amp;to:</translation>
    </message>
    <message>
        <source>Task &amp;name:</source>
        <translation>Task &amp;name:</translation>
    </message>
    <message>
        <source>Create export</source>
        <translation>Create export</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>The projects could not be loaded: %1</source>
        <translation>The projects could not be loaded: %1</translation>
    </message>
    <message>
        <source>You cannot see any project with this identity.</source>
        <translation>You cannot see any project with this identity.</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <source>The folder %1 could not be loaded: %2</source>
        <translation>The folder %1 could not be loaded: %2</translation>
    </message>
    <message>
        <source>Not loaded. Collapse and expand to retry.</source>
        <translation>Not loaded. Collapse and expand to retry.</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) here</source>
        <translation>
            <numerusform>%n file here</numerusform>
            <numerusform>%n files here</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) selected</source>
        <translation>
            <numerusform>%n item selected</numerusform>
            <numerusform>%n items selected</numerusform>
        </translation>
    </message>
    <message>
        <source>Tick the projects or folders to export.</source>
        <translation>Tick the projects or folders to export.</translation>
    </message>
    <message>
        <source>Free space: unknown</source>
        <translation>Free space: unknown</translation>
    </message>
    <message>
        <source>Free space: %1</source>
        <translation>Free space: %1</translation>
    </message>
    <message>
        <source>Export to</source>
        <translation>Export to</translation>
    </message>
    <message>
        <source>Tick at least one project or folder to export.</source>
        <translation>Tick at least one project or folder to export.</translation>
    </message>
    <message>
        <source>Choose the folder to export to.</source>
        <translation>Choose the folder to export to.</translation>
    </message>
    <message>
        <source>The export folder must be a full path, e.g. %1.</source>
        <translation>The export folder must be a full path, e.g. %1.</translation>
    </message>
    <message>
        <source>The export could not be created.
(%1)</source>
        <translation>The export could not be created.
(%1)</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>Settings</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>No limit</translation>
    </message>
    <message>
        <source>KB/s</source>
        <translation>KB/s</translation>
    </message>
    <message>
        <source>MB/s</source>
        <translation>MB/s</translation>
    </message>
    <message>
        <source>Your documents folder</source>
        <translation>Your documents folder</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>Browse…</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>Follow the system</translation>
    </message>
    <message>
        <source>The new language applies when the app starts again.</source>
        <translation>The new language applies when the app starts again.</translation>
    </message>
    <message>
        <source>None (the system&apos;s trusted certificates)</source>
        <translation>None (the system&apos;s trusted certificates)</translation>
    </message>
    <message>
        <source>&amp;Files at once:</source>
        <translation>&amp;Files at once:</translation>
    </message>
    <message>
        <source>Used from the next task that starts.</source>
        <translation>Used from the next task that starts.</translation>
    </message>
    <message>
        <source>&amp;Retries per file:</source>
        <translation>&amp;Retries per file:</translation>
    </message>
    <message>
        <source>&amp;Bandwidth limit:</source>
        <translation>&amp;Bandwidth limit:</translation>
    </message>
    <message>
        <source>0 means no limit. Applies at once, also to a running task.</source>
        <translation>0 means no limit. Applies at once, also to a running task.</translation>
    </message>
    <message>
        <source>Default e&amp;xport folder:</source>
        <translation>Default e&amp;xport folder:</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>&amp;Language:</translation>
    </message>
    <message>
        <source>&amp;CA file:</source>
        <translation>&amp;CA file:</translation>
    </message>
    <message>
        <source>Only for a server whose certificate comes from your firm&apos;s own certificate authority (a PEM file). Used from the next sign-in.</source>
        <translation>Only for a server whose certificate comes from your firm&apos;s own certificate authority (a PEM file). Used from the next sign-in.</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Default export folder</source>
        <translation>Default export folder</translation>
    </message>
    <message>
        <source>CA file</source>
        <translation>CA file</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer)</source>
        <translation>Certificates (*.pem *.crt *.cer)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>All files (*)</translation>
    </message>
    <message>
        <source>The default export folder must be a full path, e.g. %1.</source>
        <translation>The default export folder must be a full path, e.g. %1.</translation>
    </message>
    <message>
        <source>The CA file must be given as a full path.</source>
        <translation>The CA file must be given as a full path.</translation>
    </message>
    <message>
        <source>The settings could not be saved.
(%1)</source>
        <translation>The settings could not be saved.
(%1)</translation>
    </message>
    <message>
        <source>The CA file %1 does not exist.</source>
        <translation>The CA file %1 does not exist.</translation>
    </message>
    <message>
        <source>%1 is not a file. Choose the CA file itself (PEM).</source>
        <translation>%1 is not a file. Choose the CA file itself (PEM).</translation>
    </message>
    <message>
        <source>The CA file %1 holds no certificate that can be loaded (PEM expected).
(%2)</source>
        <translation>The CA file %1 holds no certificate that can be loaded (PEM expected).
(%2)</translation>
    </message>
</context>
<context>
    <name>TaskActionRunner</name>
    <message>
        <source>Could not write the file: %1</source>
        <translation>Could not write the file: %1</translation>
    </message>
    <message>
        <source>Cancel the export “%1”? Files not finished yet are discarded; files already exported stay in the folder.</source>
        <translation>Cancel the export “%1”? Files not finished yet are discarded; files already exported stay in the folder.</translation>
    </message>
    <message>
        <source>Delete the task “%1” from the list? The exported files stay in the folder.</source>
        <translation>Delete the task “%1” from the list? The exported files stay in the folder.</translation>
    </message>
    <message>
        <source>Cancel export</source>
        <translation>Cancel export</translation>
    </message>
    <message>
        <source>Keep exporting</source>
        <translation>Keep exporting</translation>
    </message>
    <message>
        <source>Keep task</source>
        <translation>Keep task</translation>
    </message>
    <message>
        <source>“%1” failed: %2</source>
        <translation>“%1” failed: %2</translation>
    </message>
    <message>
        <source>The export folder does not exist (yet): %1</source>
        <translation>The export folder does not exist (yet): %1</translation>
    </message>
    <message>
        <source>Export failure list</source>
        <translation>Export failure list</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV files (*.csv)</translation>
    </message>
    <message>
        <source>%1 failures.csv</source>
        <translation>%1 failures.csv</translation>
    </message>
    <message numerus="yes">
        <source>%n failed file(s) written to %1</source>
        <translation>
            <numerusform>%n failed file written to %1</numerusform>
            <numerusform>%n failed files written to %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TaskTableModel</name>
    <message>
        <source>Name</source>
        <translation>Name</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>Status</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>Progress</translation>
    </message>
    <message>
        <source>Files</source>
        <translation>Files</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Failed</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>Size</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>Speed</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>Time left</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>Created</translation>
    </message>
</context>
<context>
    <name>Texts</name>
    <message>
        <source>%1 · %2</source>
        <extracomment>A task&apos;s status (%1) and why it stopped (%2).</extracomment>
        <translation>%1 · %2</translation>
    </message>
    <message numerus="yes">
        <source>Completed (%Ln failed)</source>
        <translation>
            <numerusform>Completed (%Ln failed)</numerusform>
            <numerusform>Completed (%Ln failed)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Found %Ln file(s)</source>
        <translation>
            <numerusform>Found %Ln file</numerusform>
            <numerusform>Found %Ln files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln attempt(s)</source>
        <translation>
            <numerusform>%Ln attempt</numerusform>
            <numerusform>%Ln attempts</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln file</numerusform>
            <numerusform>%Ln files</numerusform>
        </translation>
    </message>
    <message>
        <source>%1 GB</source>
        <translation>%1 GB</translation>
    </message>
    <message>
        <source>%1 MB</source>
        <translation>%1 MB</translation>
    </message>
    <message>
        <source>%1 KB</source>
        <translation>%1 KB</translation>
    </message>
    <message>
        <source>%1 B</source>
        <translation>%1 B</translation>
    </message>
    <message>
        <source>%1/s</source>
        <extracomment>A transfer rate; %1 is a size (&quot;1.5 MB&quot;).</extracomment>
        <translation>%1/s</translation>
    </message>
    <message>
        <source>%1 d %2 h</source>
        <extracomment>Durations: d days, h hours, min minutes, s seconds.</extracomment>
        <translation>%1 d %2 h</translation>
    </message>
    <message>
        <source>%1 d</source>
        <translation>%1 d</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 h %2 min</translation>
    </message>
    <message>
        <source>%1 h</source>
        <translation>%1 h</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 min %2 s</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 min</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 s</translation>
    </message>
    <message>
        <source>—</source>
        <extracomment>The time left when it is not known (nothing received yet).</extracomment>
        <translation>—</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>%1 left</translation>
    </message>
    <message>
        <source>Initializing</source>
        <extracomment>The most characters of a name from the server (a task, project, folder or user name, a path) inside a sentence: a message, a confirmation, a title. The most characters of a detail from the server (an error text) inside a sentence. The most characters a tooltip shows (it shows what a cell had to elide).</extracomment>
        <translation>Initializing</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>Waiting</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>Running</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>Paused</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>Completed</translation>
    </message>
    <message>
        <source>Canceled</source>
        <translation>Canceled</translation>
    </message>
    <message>
        <source>initializing</source>
        <translation>initializing</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>waiting</translation>
    </message>
    <message>
        <source>running</source>
        <translation>running</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>paused</translation>
    </message>
    <message>
        <source>completed</source>
        <translation>completed</translation>
    </message>
    <message>
        <source>canceled</source>
        <translation>canceled</translation>
    </message>
    <message>
        <source>Unknown status (%1)</source>
        <translation>Unknown status (%1)</translation>
    </message>
    <message>
        <source>Succeeded</source>
        <translation>Succeeded</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>Failed</translation>
    </message>
    <message>
        <source>%1 · %2%</source>
        <extracomment>A file being downloaded: its status (%1) and the percent done (%2).</extracomment>
        <translation>%1 · %2%</translation>
    </message>
    <message>
        <source>All</source>
        <translation>All</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>In progress</translation>
    </message>
    <message>
        <source>Unknown filter (%1)</source>
        <translation>Unknown filter (%1)</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <extracomment>Files found so far (%1) and their total size (%2).</extracomment>
        <translation>%1 (%2)</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>Not signed in</translation>
    </message>
    <message>
        <source>Exporting</source>
        <translation>Exporting</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>Idle</translation>
    </message>
    <message>
        <source>another window</source>
        <translation>another window</translation>
    </message>
    <message>
        <source>manuscript-cli</source>
        <translation>manuscript-cli</translation>
    </message>
    <message>
        <source>by you</source>
        <translation>by you</translation>
    </message>
    <message>
        <source>login expired (%1): sign in again, then resume</source>
        <translation>login expired (%1): sign in again, then resume</translation>
    </message>
    <message>
        <source>login expired: sign in again, then resume</source>
        <translation>login expired: sign in again, then resume</translation>
    </message>
    <message>
        <source>signed out</source>
        <translation>signed out</translation>
    </message>
    <message>
        <source>switched user</source>
        <translation>switched user</translation>
    </message>
    <message>
        <source>disk full (needs %1, %2 free)</source>
        <translation>disk full (needs %1, %2 free)</translation>
    </message>
    <message>
        <source>disk full: %1: %2</source>
        <translation>disk full: %1: %2</translation>
    </message>
    <message>
        <source>disk full: %1</source>
        <translation>disk full: %1</translation>
    </message>
    <message>
        <source>disk full</source>
        <translation>disk full</translation>
    </message>
    <message>
        <source>export folder not writable: %1: %2</source>
        <translation>export folder not writable: %1: %2</translation>
    </message>
    <message>
        <source>export folder not writable: %1</source>
        <translation>export folder not writable: %1</translation>
    </message>
    <message>
        <source>export folder not writable</source>
        <translation>export folder not writable</translation>
    </message>
    <message>
        <source>server unreachable: %1</source>
        <translation>server unreachable: %1</translation>
    </message>
    <message>
        <source>server unreachable</source>
        <translation>server unreachable</translation>
    </message>
    <message>
        <source>server unavailable: %1 in a row failed the same way and none succeeded (the server&apos;s doing, or a proxy&apos;s): %2</source>
        <translation>server unavailable: %1 in a row failed the same way and none succeeded (the server&apos;s doing, or a proxy&apos;s): %2</translation>
    </message>
    <message>
        <source>server unavailable: %1</source>
        <translation>server unavailable: %1</translation>
    </message>
    <message>
        <source>server unavailable</source>
        <translation>server unavailable</translation>
    </message>
    <message>
        <source>export in use by another process: %1</source>
        <translation>export in use by another process: %1</translation>
    </message>
    <message>
        <source>export in use by another process</source>
        <translation>export in use by another process</translation>
    </message>
    <message>
        <source>the server would not list the selection: %1</source>
        <translation>the server would not list the selection: %1</translation>
    </message>
    <message>
        <source>the server would not list the selection</source>
        <translation>the server would not list the selection</translation>
    </message>
    <message>
        <source>unexpected error: %1 (the log says more)</source>
        <translation>unexpected error: %1 (the log says more)</translation>
    </message>
    <message>
        <source>unexpected error: %1 could not be scheduled (the log says more)</source>
        <translation>unexpected error: %1 could not be scheduled (the log says more)</translation>
    </message>
    <message>
        <source>unexpected error (the log says more)</source>
        <translation>unexpected error (the log says more)</translation>
    </message>
    <message>
        <source>a reason this version does not know (%1): %2</source>
        <translation>a reason this version does not know (%1): %2</translation>
    </message>
    <message>
        <source>a reason this version does not know (%1)</source>
        <translation>a reason this version does not know (%1)</translation>
    </message>
    <message>
        <source>a reason this version does not know</source>
        <translation>a reason this version does not know</translation>
    </message>
    <message>
        <source>login expired</source>
        <extracomment>Short, in the status cell: &quot;Paused · login expired&quot;.</extracomment>
        <translation>login expired</translation>
    </message>
    <message>
        <source>export folder in use</source>
        <extracomment>Short, in the status cell: another process holds the export folder&apos;s lock.</extracomment>
        <translation>export folder in use</translation>
    </message>
    <message>
        <source>could not list the files</source>
        <extracomment>Short, in the status cell: the server would not list the files of the selection.</extracomment>
        <translation>could not list the files</translation>
    </message>
    <message>
        <source>unexpected error</source>
        <extracomment>Short, in the status cell.</extracomment>
        <translation>unexpected error</translation>
    </message>
    <message>
        <source>unknown reason</source>
        <extracomment>Short, in the status cell: a stop reason this version does not know.</extracomment>
        <translation>unknown reason</translation>
    </message>
    <message>
        <source>version no longer on the server (HTTP %1)</source>
        <translation>version no longer on the server (HTTP %1)</translation>
    </message>
    <message>
        <source>version no longer on the server</source>
        <translation>version no longer on the server</translation>
    </message>
    <message>
        <source>file deleted on the server (HTTP %1)</source>
        <translation>file deleted on the server (HTTP %1)</translation>
    </message>
    <message>
        <source>file deleted on the server</source>
        <translation>file deleted on the server</translation>
    </message>
    <message>
        <source>no permission (HTTP %1)</source>
        <translation>no permission (HTTP %1)</translation>
    </message>
    <message>
        <source>no permission</source>
        <translation>no permission</translation>
    </message>
    <message>
        <source>checksum mismatch (SHA-256), after %1</source>
        <translation>checksum mismatch (SHA-256), after %1</translation>
    </message>
    <message>
        <source>checksum mismatch (SHA-256)</source>
        <translation>checksum mismatch (SHA-256)</translation>
    </message>
    <message>
        <source>size mismatch, after %1</source>
        <translation>size mismatch, after %1</translation>
    </message>
    <message>
        <source>size mismatch</source>
        <translation>size mismatch</translation>
    </message>
    <message>
        <source>name could not be made safe: %1</source>
        <translation>name could not be made safe: %1</translation>
    </message>
    <message>
        <source>name could not be made safe</source>
        <translation>name could not be made safe</translation>
    </message>
    <message>
        <source>the server&apos;s answer did not fit the file, after %1: %2</source>
        <translation>the server&apos;s answer did not fit the file, after %1: %2</translation>
    </message>
    <message>
        <source>the server&apos;s answer did not fit the file: %1</source>
        <translation>the server&apos;s answer did not fit the file: %1</translation>
    </message>
    <message>
        <source>the server&apos;s answer did not fit the file (a web page instead, say)</source>
        <translation>the server&apos;s answer did not fit the file (a web page instead, say)</translation>
    </message>
    <message>
        <source>network error, after %1: %2</source>
        <translation>network error, after %1: %2</translation>
    </message>
    <message>
        <source>network error, after %1</source>
        <translation>network error, after %1</translation>
    </message>
    <message>
        <source>network error: %1</source>
        <translation>network error: %1</translation>
    </message>
    <message>
        <source>network error until the retries ran out</source>
        <translation>network error until the retries ran out</translation>
    </message>
    <message>
        <source>server error (HTTP %1), after %2</source>
        <translation>server error (HTTP %1), after %2</translation>
    </message>
    <message>
        <source>server error (HTTP %1)</source>
        <translation>server error (HTTP %1)</translation>
    </message>
    <message>
        <source>server error, after %1: %2</source>
        <translation>server error, after %1: %2</translation>
    </message>
    <message>
        <source>server error: %1</source>
        <translation>server error: %1</translation>
    </message>
    <message>
        <source>server error until the retries ran out</source>
        <translation>server error until the retries ran out</translation>
    </message>
    <message>
        <source>could not be written: %1</source>
        <translation>could not be written: %1</translation>
    </message>
    <message>
        <source>could not be written</source>
        <translation>could not be written</translation>
    </message>
    <message>
        <source>the server&apos;s listing of this file is malformed: %1</source>
        <translation>the server&apos;s listing of this file is malformed: %1</translation>
    </message>
    <message>
        <source>the server&apos;s listing of this file is malformed</source>
        <translation>the server&apos;s listing of this file is malformed</translation>
    </message>
    <message>
        <source>failed for a reason this version does not know (%1): %2</source>
        <translation>failed for a reason this version does not know (%1): %2</translation>
    </message>
    <message>
        <source>failed for a reason this version does not know (%1)</source>
        <translation>failed for a reason this version does not know (%1)</translation>
    </message>
    <message>
        <source>failed for a reason this version does not know</source>
        <translation>failed for a reason this version does not know</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>Pause</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>Resume</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <source>Retry failed</source>
        <translation>Retry failed</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>Move up</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>Move down</translation>
    </message>
    <message>
        <source>Delete task</source>
        <translation>Delete task</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>Open folder</translation>
    </message>
    <message>
        <source>Export failure list</source>
        <translation>Export failure list</translation>
    </message>
    <message>
        <source>New export</source>
        <translation>New export</translation>
    </message>
    <message>
        <source>Unknown action (%1)</source>
        <translation>Unknown action (%1)</translation>
    </message>
    <message>
        <source>“%1” is not possible: the task is %2.</source>
        <translation>“%1” is not possible: the task is %2.</translation>
    </message>
    <message>
        <source>This is not possible: the task is %1.</source>
        <translation>This is not possible: the task is %1.</translation>
    </message>
    <message>
        <source>The task does not allow this now.</source>
        <translation>The task does not allow this now.</translation>
    </message>
    <message>
        <source>“%1” cannot be done now: another action on this task is still in progress.</source>
        <translation>“%1” cannot be done now: another action on this task is still in progress.</translation>
    </message>
    <message>
        <source>Another action on this task is still in progress; try again when it is done.</source>
        <translation>Another action on this task is still in progress; try again when it is done.</translation>
    </message>
    <message>
        <source>There is no task %1.</source>
        <translation>There is no task %1.</translation>
    </message>
    <message>
        <source>There is no such task.</source>
        <translation>There is no such task.</translation>
    </message>
    <message>
        <source>This task has no failed files.</source>
        <translation>This task has no failed files.</translation>
    </message>
    <message>
        <source>Not signed in: sign in first.</source>
        <translation>Not signed in: sign in first.</translation>
    </message>
    <message>
        <source>Choose at least one project or folder to export.</source>
        <translation>Choose at least one project or folder to export.</translation>
    </message>
    <message>
        <source>The export folder must be an absolute path: %1</source>
        <translation>The export folder must be an absolute path: %1</translation>
    </message>
    <message>
        <source>The export folder must be an absolute path.</source>
        <translation>The export folder must be an absolute path.</translation>
    </message>
    <message>
        <source>The export folder cannot be inside a .manuscript-partial folder (where partial downloads are kept and removed): %1</source>
        <translation>The export folder cannot be inside a .manuscript-partial folder (where partial downloads are kept and removed): %1</translation>
    </message>
    <message>
        <source>The export folder cannot be inside a .manuscript-partial folder (where partial downloads are kept and removed).</source>
        <translation>The export folder cannot be inside a .manuscript-partial folder (where partial downloads are kept and removed).</translation>
    </message>
    <message>
        <source>This queue is exporting in %1 (process %2); stop it there first.</source>
        <translation>This queue is exporting in %1 (process %2); stop it there first.</translation>
    </message>
    <message>
        <source>This queue is exporting in %1; stop it there first.</source>
        <translation>This queue is exporting in %1; stop it there first.</translation>
    </message>
    <message>
        <source>This queue is exporting in another process (process %1); stop it there first.</source>
        <translation>This queue is exporting in another process (process %1); stop it there first.</translation>
    </message>
    <message>
        <source>This queue is exporting in another process; stop it there first.</source>
        <translation>This queue is exporting in another process; stop it there first.</translation>
    </message>
    <message>
        <source>The action was refused (%1).</source>
        <translation>The action was refused (%1).</translation>
    </message>
    <message>
        <source>The action was refused.</source>
        <translation>The action was refused.</translation>
    </message>
    <message>
        <source>Signed in as %1 (%2)</source>
        <translation>Signed in as %1 (%2)</translation>
    </message>
    <message>
        <source>Switched to %1 (%2)</source>
        <translation>Switched to %1 (%2)</translation>
    </message>
    <message>
        <source>Signed in</source>
        <translation>Signed in</translation>
    </message>
    <message>
        <source>Signed out</source>
        <translation>Signed out</translation>
    </message>
    <message>
        <source>Your login expired: sign in again</source>
        <translation>Your login expired: sign in again</translation>
    </message>
    <message>
        <source>The session changed (%1)</source>
        <translation>The session changed (%1)</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <source>Switch user…</source>
        <extracomment>The most characters of a task name in a suggested file name (60 CJK characters are 180 bytes in UTF-8, well inside a file name&apos;s 255). The task actions in toolbar and menu order.</extracomment>
        <translation>Switch user…</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>Sign in…</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>Log out</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>Settings…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>Quit</translation>
    </message>
</context>
</TS>
