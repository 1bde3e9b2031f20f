<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN" sourcelanguage="en">
<context>
    <name>DetailPane</name>
    <message>
        <source>Search file names</source>
        <extracomment>The filter buttons, left to right.</extracomment>
        <translation>搜索文件名</translation>
    </message>
    <message>
        <source>Task details: select a task above</source>
        <translation>任务详情：请在上方选择一个任务</translation>
    </message>
    <message>
        <source>Task details: %1</source>
        <translation>任务详情：%1</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>No file matches the search.</source>
        <translation>没有与搜索条件匹配的文件。</translation>
    </message>
    <message>
        <source>No files here.</source>
        <translation>暂无文件。</translation>
    </message>
    <message>
        <source>The files could not be read: %1</source>
        <translation>无法读取文件列表：%1</translation>
    </message>
</context>
<context>
    <name>ExportFolder</name>
    <message>
        <source>%1 is a file, not a folder.</source>
        <translation>%1 是文件，不是文件夹。</translation>
    </message>
    <message>
        <source>The folder cannot be created: %1 is a file.</source>
        <translation>无法创建文件夹：%1 是文件。</translation>
    </message>
    <message>
        <source>You cannot write to %1. Choose another folder.
(%2)</source>
        <translation>无法写入 %1，请选择其他文件夹。
（%2）</translation>
    </message>
</context>
<context>
    <name>FileTableModel</name>
    <message>
        <source>File</source>
        <extracomment>Rows per page (a screen shows a few dozen; a page is one index range scan).</extracomment>
        <translation>文件</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Version</source>
        <translation>版本</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Failure reason</source>
        <translation>失败原因</translation>
    </message>
    <message>
        <source>Attempts</source>
        <translation>尝试次数</translation>
    </message>
</context>
<context>
    <name>LoginDialog</name>
    <message>
        <source>Switch user</source>
        <extracomment>The identity box&apos;s width, in characters (longer names are elided, whole in tooltips). :func:`url_problem`&apos;s answer for an address with a user name or password in it.</extracomment>
        <translation>切换用户</translation>
    </message>
    <message>
        <source>Sign in</source>
        <translation>登录</translation>
    </message>
    <message>
        <source>Signed in now: %1 · %2</source>
        <translation>当前登录：%1 · %2</translation>
    </message>
    <message>
        <source>https://wp.example.com</source>
        <translation>https://wp.example.com</translation>
    </message>
    <message>
        <source>&amp;Identity:</source>
        <translation>身份(&amp;I)：</translation>
    </message>
    <message>
        <source>&amp;Server:</source>
        <translation>服务器(&amp;S)：</translation>
    </message>
    <message>
        <source>&amp;User name:</source>
        <translation>用户名(&amp;U)：</translation>
    </message>
    <message>
        <source>&amp;Password:</source>
        <translation>密码(&amp;P)：</translation>
    </message>
    <message>
        <source>Switch</source>
        <translation>切换</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Enter the server address.</source>
        <translation>请输入服务器地址。</translation>
    </message>
    <message>
        <source>Leave the user name and password out of the server address: enter the address alone, your user name and password below.</source>
        <translation>服务器地址中请勿包含用户名和密码：地址栏只填服务器地址，用户名和密码请填在下方。</translation>
    </message>
    <message>
        <source>Enter your user name.</source>
        <translation>请输入用户名。</translation>
    </message>
    <message>
        <source>Enter your password.</source>
        <translation>请输入密码。</translation>
    </message>
    <message>
        <source>The server address is not valid. It starts with http:// or https:// and names the server, e.g. https://wp.example.com:8443</source>
        <translation>服务器地址无效。地址应以 http:// 或 https:// 开头并写明服务器，例如 https://wp.example.com:8443</translation>
    </message>
    <message>
        <source>Stopped waiting for the server.</source>
        <translation>已停止等待服务器响应。</translation>
    </message>
    <message>
        <source>You have several identities. Choose one and sign in.</source>
        <translation>您有多个身份，请选择一个身份后登录。</translation>
    </message>
    <message>
        <source>Wrong user name or password.</source>
        <translation>用户名或密码错误。</translation>
    </message>
    <message>
        <source>User %1 has no identity “%2”. Choose one of the user&apos;s identities.</source>
        <translation>用户 %1 没有“%2”身份，请从该用户的身份中选择。</translation>
    </message>
    <message>
        <source>The server&apos;s certificate could not be verified, so the connection was not trusted. If your firm uses its own certificate authority, choose its CA file in the settings.
(%1)</source>
        <translation>无法验证服务器证书，连接不受信任。如果所内使用自有的证书颁发机构（CA），请在设置中选择其 CA 文件。
（%1）</translation>
    </message>
    <message>
        <source>The secure connection (TLS) to %1 failed: the server&apos;s certificate could not be verified or the server does not speak TLS.
(%2)</source>
        <translation>与 %1 的安全连接（TLS）失败：无法验证服务器证书，或服务器不支持 TLS。
（%2）</translation>
    </message>
    <message>
        <source>Cannot reach the server %1. Check the address and the network.
(%2)</source>
        <translation>无法连接服务器 %1，请检查地址和网络。
（%2）</translation>
    </message>
    <message>
        <source>The connection to the server was interrupted or timed out. Try again.
(%1)</source>
        <translation>与服务器的连接中断或超时，请重试。
（%1）</translation>
    </message>
    <message>
        <source>The server is temporarily unavailable (HTTP %1). Try again later.</source>
        <translation>服务器暂不可用（HTTP %1），请稍后再试。</translation>
    </message>
    <message>
        <source>The server refused the sign-in (HTTP %1). Check the server address.
(%2)</source>
        <translation>服务器拒绝了登录请求（HTTP %1），请检查服务器地址。
（%2）</translation>
    </message>
    <message>
        <source>The server&apos;s answer was not understood; the address may not be a working-paper server.
(%1)</source>
        <translation>无法识别服务器的响应，该地址可能不是底稿服务器。
（%1）</translation>
    </message>
    <message>
        <source>The sign-in failed.
(%1)</source>
        <translation>登录失败。
（%1）</translation>
    </message>
    <message>
        <source>The task database on this computer cannot be opened.
(%1)</source>
        <translation>无法打开本机的任务数据库。
（%1）</translation>
    </message>
    <message>
        <source>The CA file in the settings cannot be used, or the server address is not valid.
(%1)</source>
        <translation>设置中的 CA 文件无法使用，或服务器地址无效。
（%1）</translation>
    </message>
    <message>
        <source>The sign-in failed unexpectedly.
(%1)</source>
        <translation>登录时发生意外错误。
（%1）</translation>
    </message>
</context>
<context>
    <name>MainWindow</name>
    <message>
        <source>Working-paper batch export</source>
        <extracomment>The widest the status bar&apos;s user, identity, server and queue fields get (pixels).</extracomment>
        <translation>底稿批量导出</translation>
    </message>
    <message>
        <source>Toolbar</source>
        <translation>工具栏</translation>
    </message>
    <message>
        <source>&amp;File</source>
        <translation>文件(&amp;F)</translation>
    </message>
    <message>
        <source>&amp;Task</source>
        <translation>任务(&amp;T)</translation>
    </message>
    <message>
        <source>&amp;Account</source>
        <translation>账户(&amp;A)</translation>
    </message>
    <message>
        <source>&amp;Help</source>
        <translation>帮助(&amp;H)</translation>
    </message>
    <message>
        <source>Open &amp;log folder</source>
        <translation>打开日志文件夹(&amp;L)</translation>
    </message>
    <message>
        <source>&amp;About…</source>
        <translation>关于(&amp;A)…</translation>
    </message>
    <message>
        <source>Not signed in. Sign in to see your export tasks and continue them.</source>
        <translation>尚未登录。登录后可查看并继续您的导出任务。</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>登录…</translation>
    </message>
    <message>
        <source>No export tasks yet. Choose projects or folders to export to your computer.</source>
        <translation>暂无导出任务。请选择要导出到本机的项目或目录。</translation>
    </message>
    <message>
        <source>Cannot open the log folder %1: %2</source>
        <translation>无法打开日志文件夹 %1：%2</translation>
    </message>
    <message>
        <source>Working-paper batch export (manuscript-gui) %1

Databases: %2
Settings: %3
Log: %4</source>
        <translation>底稿批量导出（manuscript-gui）%1

数据库：%2
设置：%3
日志：%4</translation>
    </message>
    <message>
        <source>About</source>
        <translation>关于</translation>
    </message>
    <message>
        <source>User: %1</source>
        <translation>用户：%1</translation>
    </message>
    <message>
        <source>Identity: %1</source>
        <translation>身份：%1</translation>
    </message>
    <message>
        <source>Server: %1</source>
        <translation>服务器：%1</translation>
    </message>
</context>
<context>
    <name>NewExportDialog</name>
    <message>
        <source>New export</source>
        <translation>新建导出</translation>
    </message>
    <message>
        <source>Search projects by name, code or client</source>
        <translation>按项目名称、编号或客户搜索</translation>
    </message>
    <message>
        <source>Reload</source>
        <translation>刷新</translation>
    </message>
    <message>
        <source>Project / folder</source>
        <translation>项目 / 目录</translation>
    </message>
    <message>
        <source>Details</source>
        <translation>详情</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Export &amp;to:</source>
        <translation>导出到(&amp;T)：</translation>
    </message>
    <message>
        <source>Task &amp;name:</source>
        <translation>任务名称(&amp;N)：</translation>
    </message>
    <message>
        <source>Create export</source>
        <translation>创建导出</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>The projects could not be loaded: %1</source>
        <translation>无法加载项目列表：%1</translation>
    </message>
    <message>
        <source>You cannot see any project with this identity.</source>
        <translation>当前身份下没有可查看的项目。</translation>
    </message>
    <message>
        <source>Loading…</source>
        <translation>正在加载…</translation>
    </message>
    <message>
        <source>The folder %1 could not be loaded: %2</source>
        <translation>无法加载目录 %1：%2</translation>
    </message>
    <message>
        <source>Not loaded. Collapse and expand to retry.</source>
        <translation>未加载。请收起后重新展开以重试。</translation>
    </message>
    <message numerus="yes">
        <source>%n file(s) here</source>
        <translation>
            <numerusform>含 %n 个文件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n item(s) selected</source>
        <translation>
            <numerusform>已选择 %n 项</numerusform>
        </translation>
    </message>
    <message>
        <source>Tick the projects or folders to export.</source>
        <translation>请勾选要导出的项目或目录。</translation>
    </message>
    <message>
        <source>Free space: unknown</source>
        <translation>可用空间：未知</translation>
    </message>
    <message>
        <source>Free space: %1</source>
        <translation>可用空间：%1</translation>
    </message>
    <message>
        <source>Export to</source>
        <translation>导出到</translation>
    </message>
    <message>
        <source>Tick at least one project or folder to export.</source>
        <translation>请至少勾选一个项目或目录进行导出。</translation>
    </message>
    <message>
        <source>Choose the folder to export to.</source>
        <translation>请选择导出到的文件夹。</translation>
    </message>
    <message>
        <source>The export folder must be a full path, e.g. %1.</source>
        <translation>导出文件夹必须是完整路径，例如 %1。</translation>
    </message>
    <message>
        <source>The export could not be created.
(%1)</source>
        <translation>无法创建导出任务。
（%1）</translation>
    </message>
</context>
<context>
    <name>SettingsDialog</name>
    <message>
        <source>Settings</source>
        <translation>设置</translation>
    </message>
    <message>
        <source>No limit</source>
        <translation>不限速</translation>
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
        <translation>“文档”文件夹</translation>
    </message>
    <message>
        <source>Browse…</source>
        <translation>浏览…</translation>
    </message>
    <message>
        <source>Follow the system</source>
        <translation>跟随系统</translation>
    </message>
    <message>
        <source>The new language applies when the app starts again.</source>
        <translation>新的语言设置将在重新启动程序后生效。</translation>
    </message>
    <message>
        <source>None (the system&apos;s trusted certificates)</source>
        <translation>无（使用系统信任的证书）</translation>
    </message>
    <message>
        <source>&amp;Files at once:</source>
        <translation>同时下载文件数(&amp;F)：</translation>
    </message>
    <message>
        <source>Used from the next task that starts.</source>
        <translation>从下一个开始运行的任务起生效。</translation>
    </message>
    <message>
        <source>&amp;Retries per file:</source>
        <translation>每个文件重试次数(&amp;R)：</translation>
    </message>
    <message>
        <source>&amp;Bandwidth limit:</source>
        <translation>带宽限制(&amp;B)：</translation>
    </message>
    <message>
        <source>0 means no limit. Applies at once, also to a running task.</source>
        <translation>0 表示不限速。立即生效，对进行中的任务同样适用。</translation>
    </message>
    <message>
        <source>Default e&amp;xport folder:</source>
        <translation>默认导出文件夹(&amp;X)：</translation>
    </message>
    <message>
        <source>&amp;Language:</source>
        <translation>语言(&amp;L)：</translation>
    </message>
    <message>
        <source>&amp;CA file:</source>
        <translation>CA 文件(&amp;C)：</translation>
    </message>
    <message>
        <source>Only for a server whose certificate comes from your firm&apos;s own certificate authority (a PEM file). Used from the next sign-in.</source>
        <translation>仅当服务器证书由所内自有的证书颁发机构签发时需要（PEM 文件）。下次登录时生效。</translation>
    </message>
    <message>
        <source>OK</source>
        <translation>确定</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Default export folder</source>
        <translation>默认导出文件夹</translation>
    </message>
    <message>
        <source>CA file</source>
        <translation>CA 文件</translation>
    </message>
    <message>
        <source>Certificates (*.pem *.crt *.cer)</source>
        <translation>证书文件 (*.pem *.crt *.cer)</translation>
    </message>
    <message>
        <source>All files (*)</source>
        <translation>所有文件 (*)</translation>
    </message>
    <message>
        <source>The default export folder must be a full path, e.g. %1.</source>
        <translation>默认导出文件夹必须是完整路径，例如 %1。</translation>
    </message>
    <message>
        <source>The CA file must be given as a full path.</source>
        <translation>CA 文件必须填写完整路径。</translation>
    </message>
    <message>
        <source>The settings could not be saved.
(%1)</source>
        <translation>无法保存设置。
（%1）</translation>
    </message>
    <message>
        <source>The CA file %1 does not exist.</source>
        <translation>CA 文件 %1 不存在。</translation>
    </message>
    <message>
        <source>%1 is not a file. Choose the CA file itself (PEM).</source>
        <translation>%1 不是文件，请选择 CA 文件本身（PEM 格式）。</translation>
    </message>
    <message>
        <source>The CA file %1 holds no certificate that can be loaded (PEM expected).
(%2)</source>
        <translation>CA 文件 %1 中没有可加载的证书（应为 PEM 格式）。
（%2）</translation>
    </message>
</context>
<context>
    <name>TaskActionRunner</name>
    <message>
        <source>Could not write the file: %1</source>
        <translation>无法写入文件：%1</translation>
    </message>
    <message>
        <source>Cancel the export “%1”? Files not finished yet are discarded; files already exported stay in the folder.</source>
        <translation>确定取消导出“%1”吗？尚未完成的文件将被丢弃，已导出的文件仍保留在文件夹中。</translation>
    </message>
    <message>
        <source>Delete the task “%1” from the list? The exported files stay in the folder.</source>
        <translation>确定从列表中删除任务“%1”吗？已导出的文件仍保留在文件夹中。</translation>
    </message>
    <message>
        <source>Cancel export</source>
        <translation>取消导出</translation>
    </message>
    <message>
        <source>Keep exporting</source>
        <translation>继续导出</translation>
    </message>
    <message>
        <source>Keep task</source>
        <translation>保留任务</translation>
    </message>
    <message>
        <source>“%1” failed: %2</source>
        <translation>“%1”失败：%2</translation>
    </message>
    <message>
        <source>The export folder does not exist (yet): %1</source>
        <translation>导出文件夹尚不存在：%1</translation>
    </message>
    <message>
        <source>Export failure list</source>
        <translation>导出失败清单</translation>
    </message>
    <message>
        <source>CSV files (*.csv)</source>
        <translation>CSV 文件 (*.csv)</translation>
    </message>
    <message>
        <source>%1 failures.csv</source>
        <translation>%1 失败清单.csv</translation>
    </message>
    <message numerus="yes">
        <source>%n failed file(s) written to %1</source>
        <translation>
            <numerusform>已将 %n 个失败文件写入 %1</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TaskTableModel</name>
    <message>
        <source>Name</source>
        <translation>名称</translation>
    </message>
    <message>
        <source>Status</source>
        <translation>状态</translation>
    </message>
    <message>
        <source>Progress</source>
        <translation>进度</translation>
    </message>
    <message>
        <source>Files</source>
        <translation>文件数</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>Size</source>
        <translation>大小</translation>
    </message>
    <message>
        <source>Speed</source>
        <translation>速度</translation>
    </message>
    <message>
        <source>Time left</source>
        <translation>剩余时间</translation>
    </message>
    <message>
        <source>Created</source>
        <translation>创建时间</translation>
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
            <numerusform>已完成（%Ln 个失败）</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Found %Ln file(s)</source>
        <translation>
            <numerusform>已统计 %Ln 个文件</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln attempt(s)</source>
        <translation>
            <numerusform>%Ln 次</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%Ln file(s)</source>
        <translation>
            <numerusform>%Ln 个文件</numerusform>
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
        <translation>%1 天 %2 小时</translation>
    </message>
    <message>
        <source>%1 d</source>
        <translation>%1 天</translation>
    </message>
    <message>
        <source>%1 h %2 min</source>
        <translation>%1 小时 %2 分</translation>
    </message>
    <message>
        <source>%1 h</source>
        <translation>%1 小时</translation>
    </message>
    <message>
        <source>%1 min %2 s</source>
        <translation>%1 分 %2 秒</translation>
    </message>
    <message>
        <source>%1 min</source>
        <translation>%1 分钟</translation>
    </message>
    <message>
        <source>%1 s</source>
        <translation>%1 秒</translation>
    </message>
    <message>
        <source>—</source>
        <extracomment>The time left when it is not known (nothing received yet).</extracomment>
        <translation>—</translation>
    </message>
    <message>
        <source>%1 left</source>
        <translation>剩余 %1</translation>
    </message>
    <message>
        <source>Initializing</source>
        <extracomment>The most characters of a name from the server (a task, project, folder or user name, a path) inside a sentence: a message, a confirmation, a title. The most characters of a detail from the server (an error text) inside a sentence. The most characters a tooltip shows (it shows what a cell had to elide).</extracomment>
        <translation>初始化中</translation>
    </message>
    <message>
        <source>Waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>Running</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>Paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>Completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>Canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>initializing</source>
        <translation>初始化中</translation>
    </message>
    <message>
        <source>waiting</source>
        <translation>等待中</translation>
    </message>
    <message>
        <source>running</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>paused</source>
        <translation>已暂停</translation>
    </message>
    <message>
        <source>completed</source>
        <translation>已完成</translation>
    </message>
    <message>
        <source>canceled</source>
        <translation>已取消</translation>
    </message>
    <message>
        <source>Unknown status (%1)</source>
        <translation>未知状态（%1）</translation>
    </message>
    <message>
        <source>Succeeded</source>
        <translation>成功</translation>
    </message>
    <message>
        <source>Failed</source>
        <translation>失败</translation>
    </message>
    <message>
        <source>%1 · %2%</source>
        <extracomment>A file being downloaded: its status (%1) and the percent done (%2).</extracomment>
        <translation>%1 · %2%</translation>
    </message>
    <message>
        <source>All</source>
        <translation>全部</translation>
    </message>
    <message>
        <source>In progress</source>
        <translation>进行中</translation>
    </message>
    <message>
        <source>Unknown filter (%1)</source>
        <translation>未知筛选条件（%1）</translation>
    </message>
    <message>
        <source>%1 (%2)</source>
        <extracomment>Files found so far (%1) and their total size (%2).</extracomment>
        <translation>%1（%2）</translation>
    </message>
    <message>
        <source>Not signed in</source>
        <translation>未登录</translation>
    </message>
    <message>
        <source>Exporting</source>
        <translation>正在导出</translation>
    </message>
    <message>
        <source>Idle</source>
        <translation>空闲</translation>
    </message>
    <message>
        <source>another window</source>
        <translation>另一个窗口</translation>
    </message>
    <message>
        <source>manuscript-cli</source>
        <translation>命令行工具（manuscript-cli）</translation>
    </message>
    <message>
        <source>by you</source>
        <translation>手动暂停</translation>
    </message>
    <message>
        <source>login expired (%1): sign in again, then resume</source>
        <translation>登录已过期（%1），请重新登录后继续</translation>
    </message>
    <message>
        <source>login expired: sign in again, then resume</source>
        <translation>登录已过期，请重新登录后继续</translation>
    </message>
    <message>
        <source>signed out</source>
        <translation>已退出登录</translation>
    </message>
    <message>
        <source>switched user</source>
        <translation>已切换用户</translation>
    </message>
    <message>
        <source>disk full (needs %1, %2 free)</source>
        <translation>磁盘空间不足（还需 %1，可用 %2）</translation>
    </message>
    <message>
        <source>disk full: %1: %2</source>
        <translation>磁盘空间不足：%1：%2</translation>
    </message>
    <message>
        <source>disk full: %1</source>
        <translation>磁盘空间不足：%1</translation>
    </message>
    <message>
        <source>disk full</source>
        <translation>磁盘空间不足</translation>
    </message>
    <message>
        <source>export folder not writable: %1: %2</source>
        <translation>导出文件夹不可写：%1：%2</translation>
    </message>
    <message>
        <source>export folder not writable: %1</source>
        <translation>导出文件夹不可写：%1</translation>
    </message>
    <message>
        <source>export folder not writable</source>
        <translation>导出文件夹不可写</translation>
    </message>
    <message>
        <source>server unreachable: %1</source>
        <translation>无法连接服务器：%1</translation>
    </message>
    <message>
        <source>server unreachable</source>
        <translation>无法连接服务器</translation>
    </message>
    <message>
        <source>server unavailable: %1 in a row failed the same way and none succeeded (the server&apos;s doing, or a proxy&apos;s): %2</source>
        <translation>服务器暂不可用：连续 %1下载失败且无一成功（可能是服务器或代理的问题）：%2</translation>
    </message>
    <message>
        <source>server unavailable: %1</source>
        <translation>服务器暂不可用：%1</translation>
    </message>
    <message>
        <source>server unavailable</source>
        <translation>服务器暂不可用</translation>
    </message>
    <message>
        <source>export in use by another process: %1</source>
        <translation>导出正被另一个程序占用：%1</translation>
    </message>
    <message>
        <source>export in use by another process</source>
        <translation>导出正被另一个程序占用</translation>
    </message>
    <message>
        <source>the server would not list the selection: %1</source>
        <translation>无法从服务器获取所选内容的文件清单：%1</translation>
    </message>
    <message>
        <source>the server would not list the selection</source>
        <translation>无法从服务器获取所选内容的文件清单</translation>
    </message>
    <message>
        <source>unexpected error: %1 (the log says more)</source>
        <translation>意外错误：%1（详见日志）</translation>
    </message>
    <message>
        <source>unexpected error: %1 could not be scheduled (the log says more)</source>
        <translation>意外错误：%1无法安排下载（详见日志）</translation>
    </message>
    <message>
        <source>unexpected error (the log says more)</source>
        <translation>意外错误（详见日志）</translation>
    </message>
    <message>
        <source>a reason this version does not know (%1): %2</source>
        <translation>当前版本无法识别的原因（%1）：%2</translation>
    </message>
    <message>
        <source>a reason this version does not know (%1)</source>
        <translation>当前版本无法识别的原因（%1）</translation>
    </message>
    <message>
        <source>a reason this version does not know</source>
        <translation>当前版本无法识别的原因</translation>
    </message>
    <message>
        <source>login expired</source>
        <extracomment>Short, in the status cell: &quot;Paused · login expired&quot;.</extracomment>
        <translation>登录已过期</translation>
    </message>
    <message>
        <source>export folder in use</source>
        <extracomment>Short, in the status cell: another process holds the export folder&apos;s lock.</extracomment>
        <translation>导出文件夹被占用</translation>
    </message>
    <message>
        <source>could not list the files</source>
        <extracomment>Short, in the status cell: the server would not list the files of the selection.</extracomment>
        <translation>无法获取文件清单</translation>
    </message>
    <message>
        <source>unexpected error</source>
        <extracomment>Short, in the status cell.</extracomment>
        <translation>意外错误</translation>
    </message>
    <message>
        <source>unknown reason</source>
        <extracomment>Short, in the status cell: a stop reason this version does not know.</extracomment>
        <translation>未知原因</translation>
    </message>
    <message>
        <source>version no longer on the server (HTTP %1)</source>
        <translation>服务器上已无此版本（HTTP %1）</translation>
    </message>
    <message>
        <source>version no longer on the server</source>
        <translation>服务器上已无此版本</translation>
    </message>
    <message>
        <source>file deleted on the server (HTTP %1)</source>
        <translation>文件已在服务器上删除（HTTP %1）</translation>
    </message>
    <message>
        <source>file deleted on the server</source>
        <translation>文件已在服务器上删除</translation>
    </message>
    <message>
        <source>no permission (HTTP %1)</source>
        <translation>无权限访问（HTTP %1）</translation>
    </message>
    <message>
        <source>no permission</source>
        <translation>无权限访问</translation>
    </message>
    <message>
        <source>checksum mismatch (SHA-256), after %1</source>
        <translation>文件校验失败（SHA-256 不一致，已尝试 %1）</translation>
    </message>
    <message>
        <source>checksum mismatch (SHA-256)</source>
        <translation>文件校验失败（SHA-256 不一致）</translation>
    </message>
    <message>
        <source>size mismatch, after %1</source>
        <translation>文件大小不一致（已尝试 %1）</translation>
    </message>
    <message>
        <source>size mismatch</source>
        <translation>文件大小不一致</translation>
    </message>
    <message>
        <source>name could not be made safe: %1</source>
        <translation>文件名无法转换为安全名称：%1</translation>
    </message>
    <message>
        <source>name could not be made safe</source>
        <translation>文件名无法转换为安全名称</translation>
    </message>
    <message>
        <source>the server&apos;s answer did not fit the file, after %1: %2</source>
        <translation>服务器返回的内容与文件不符（已尝试 %1）：%2</translation>
    </message>
    <message>
        <source>the server&apos;s answer did not fit the file: %1</source>
        <translation>服务器返回的内容与文件不符：%1</translation>
    </message>
    <message>
        <source>the server&apos;s answer did not fit the file (a web page instead, say)</source>
        <translation>服务器返回的内容与文件不符（例如返回了网页）</translation>
    </message>
    <message>
        <source>network error, after %1: %2</source>
        <translation>网络错误（已尝试 %1）：%2</translation>
    </message>
    <message>
        <source>network error, after %1</source>
        <translation>网络错误（已尝试 %1）</translation>
    </message>
    <message>
        <source>network error: %1</source>
        <translation>网络错误：%1</translation>
    </message>
    <message>
        <source>network error until the retries ran out</source>
        <translation>网络错误，重试次数已用完</translation>
    </message>
    <message>
        <source>server error (HTTP %1), after %2</source>
        <translation>服务器错误（HTTP %1，已尝试 %2）</translation>
    </message>
    <message>
        <source>server error (HTTP %1)</source>
        <translation>服务器错误（HTTP %1）</translation>
    </message>
    <message>
        <source>server error, after %1: %2</source>
        <translation>服务器错误（已尝试 %1）：%2</translation>
    </message>
    <message>
        <source>server error: %1</source>
        <translation>服务器错误：%1</translation>
    </message>
    <message>
        <source>server error until the retries ran out</source>
        <translation>服务器错误，重试次数已用完</translation>
    </message>
    <message>
        <source>could not be written: %1</source>
        <translation>无法写入文件：%1</translation>
    </message>
    <message>
        <source>could not be written</source>
        <translation>无法写入文件</translation>
    </message>
    <message>
        <source>the server&apos;s listing of this file is malformed: %1</source>
        <translation>服务器提供的文件信息有误：%1</translation>
    </message>
    <message>
        <source>the server&apos;s listing of this file is malformed</source>
        <translation>服务器提供的文件信息有误</translation>
    </message>
    <message>
        <source>failed for a reason this version does not know (%1): %2</source>
        <translation>失败，当前版本无法识别原因（%1）：%2</translation>
    </message>
    <message>
        <source>failed for a reason this version does not know (%1)</source>
        <translation>失败，当前版本无法识别原因（%1）</translation>
    </message>
    <message>
        <source>failed for a reason this version does not know</source>
        <translation>失败，当前版本无法识别原因</translation>
    </message>
    <message>
        <source>Pause</source>
        <translation>暂停</translation>
    </message>
    <message>
        <source>Resume</source>
        <translation>继续</translation>
    </message>
    <message>
        <source>Cancel</source>
        <translation>取消</translation>
    </message>
    <message>
        <source>Retry failed</source>
        <translation>重试失败项</translation>
    </message>
    <message>
        <source>Move up</source>
        <translation>上移</translation>
    </message>
    <message>
        <source>Move down</source>
        <translation>下移</translation>
    </message>
    <message>
        <source>Delete task</source>
        <translation>删除任务</translation>
    </message>
    <message>
        <source>Open folder</source>
        <translation>打开文件夹</translation>
    </message>
    <message>
        <source>Export failure list</source>
        <translation>导出失败清单</translation>
    </message>
    <message>
        <source>New export</source>
        <translation>新建导出</translation>
    </message>
    <message>
        <source>Unknown action (%1)</source>
        <translation>未知操作（%1）</translation>
    </message>
    <message>
        <source>“%1” is not possible: the task is %2.</source>
        <translation>无法执行“%1”：任务%2。</translation>
    </message>
    <message>
        <source>This is not possible: the task is %1.</source>
        <translation>无法执行此操作：任务%1。</translation>
    </message>
    <message>
        <source>The task does not allow this now.</source>
        <translation>任务当前不允许此操作。</translation>
    </message>
    <message>
        <source>“%1” cannot be done now: another action on this task is still in progress.</source>
        <translation>暂时无法执行“%1”：此任务的另一项操作仍在进行中。</translation>
    </message>
    <message>
        <source>Another action on this task is still in progress; try again when it is done.</source>
        <translation>此任务的另一项操作仍在进行中，请稍后再试。</translation>
    </message>
    <message>
        <source>There is no task %1.</source>
        <translation>任务 %1 不存在。</translation>
    </message>
    <message>
        <source>There is no such task.</source>
        <translation>该任务不存在。</translation>
    </message>
    <message>
        <source>This task has no failed files.</source>
        <translation>此任务没有失败的文件。</translation>
    </message>
    <message>
        <source>Not signed in: sign in first.</source>
        <translation>尚未登录，请先登录。</translation>
    </message>
    <message>
        <source>Choose at least one project or folder to export.</source>
        <translation>请至少选择一个项目或目录进行导出。</translation>
    </message>
    <message>
        <source>The export folder must be an absolute path: %1</source>
        <translation>导出文件夹必须是绝对路径：%1</translation>
    </message>
    <message>
        <source>The export folder must be an absolute path.</source>
        <translation>导出文件夹必须是绝对路径。</translation>
    </message>
    <message>
        <source>The export folder cannot be inside a .manuscript-partial folder (where partial downloads are kept and removed): %1</source>
        <translation>导出文件夹不能位于 .manuscript-partial 文件夹内（该文件夹存放下载中的临时文件，会被清除）：%1</translation>
    </message>
    <message>
        <source>The export folder cannot be inside a .manuscript-partial folder (where partial downloads are kept and removed).</source>
        <translation>导出文件夹不能位于 .manuscript-partial 文件夹内（该文件夹存放下载中的临时文件，会被清除）。</translation>
    </message>
    <message>
        <source>This queue is exporting in %1 (process %2); stop it there first.</source>
        <translation>此队列正在%1中导出（进程 %2），请先在那里停止。</translation>
    </message>
    <message>
        <source>This queue is exporting in %1; stop it there first.</source>
        <translation>此队列正在%1中导出，请先在那里停止。</translation>
    </message>
    <message>
        <source>This queue is exporting in another process (process %1); stop it there first.</source>
        <translation>此队列正在另一个进程中导出（进程 %1），请先在那里停止。</translation>
    </message>
    <message>
        <source>This queue is exporting in another process; stop it there first.</source>
        <translation>此队列正在另一个进程中导出，请先在那里停止。</translation>
    </message>
    <message>
        <source>The action was refused (%1).</source>
        <translation>操作被拒绝（%1）。</translation>
    </message>
    <message>
        <source>The action was refused.</source>
        <translation>操作被拒绝。</translation>
    </message>
    <message>
        <source>Signed in as %1 (%2)</source>
        <translation>已登录：%1（%2）</translation>
    </message>
    <message>
        <source>Switched to %1 (%2)</source>
        <translation>已切换到 %1（%2）</translation>
    </message>
    <message>
        <source>Signed in</source>
        <translation>已登录</translation>
    </message>
    <message>
        <source>Signed out</source>
        <translation>已退出登录</translation>
    </message>
    <message>
        <source>Your login expired: sign in again</source>
        <translation>登录已过期，请重新登录</translation>
    </message>
    <message>
        <source>The session changed (%1)</source>
        <translation>登录状态已变化（%1）</translation>
    </message>
</context>
<context>
    <name>WindowActions</name>
    <message>
        <source>Switch user…</source>
        <extracomment>The most characters of a task name in a suggested file name (60 CJK characters are 180 bytes in UTF-8, well inside a file name&apos;s 255). The task actions in toolbar and menu order.</extracomment>
        <translation>切换用户…</translation>
    </message>
    <message>
        <source>Sign in…</source>
        <translation>登录…</translation>
    </message>
    <message>
        <source>Log out</source>
        <translation>退出登录</translation>
    </message>
    <message>
        <source>Settings…</source>
        <translation>设置…</translation>
    </message>
    <message>
        <source>Quit</source>
        <translation>退出</translation>
    </message>
</context>
</TS>
