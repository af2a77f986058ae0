Attribute VB_Name = "XlVarRibbon"
' xl-var ribbon callbacks (the onAction and onLoad targets in customUI.xml).
'
' Each button calls one Python entry point in xl_var_udfs.ribbon through xlwings' RunPython.
' RunPython blocks Excel until Python returns, so "Run Monte Carlo" only starts a separate worker
' process and returns. Progress then reaches the status bar without blocking Excel: the worker
' rewrites a one-line status file (state TAB text) every half second, and XlVarTick, scheduled with
' Application.OnTime while Excel is idle, copies that text to the status bar. When the worker has
' stopped (done, failed or cancelled) or its status file goes stale (the worker died), XlVarTick
' calls the Python "poll" entry point, which writes the results sheet or reports the failure and
' marks the job "idle"; then the ticks stop. Python owns all the logic; this module only relays.
'
' The folder of the status file must match xl_var_udfs.jobs.jobs_folder(): the environment
' variable XLVAR_JOBS_DIR, else "xl-var-mc" in the user's temporary folder.
Option Explicit

Private Const TICK_SECONDS As Long = 1
Private Const STALE_SECONDS As Long = 10
Private NextTick As Date

' Workbooks refreshed by `xl-var refresh` store each array result of an xl-var function so that
' every spreadsheet application shows it: a plain formula in the top-left cell, values in the
' other cells, and a hidden name over the range, "_xlvar_spill_N" (a dynamic array) or
' "_xlvar_array_N" (a Ctrl+Shift+Enter array). MakeLive turns each back into a live array
' formula when such a workbook opens (XlVarEvents relays Excel's WorkbookOpen event; OnRibbonLoad
' starts it when the add-in loads). The prefixes must match xl_var_cli.spillmarks.
Private Const SPILL_PREFIX As String = "_xlvar_spill_"
Private Const ARRAY_PREFIX As String = "_xlvar_array_"
Private Events As XlVarEvents

Sub OnRibbonLoad(ribbon As IRibbonUI)
    Dim Wb As Workbook
    Set Events = New XlVarEvents
    Set Events.App = Application
    For Each Wb In Application.Workbooks
        MakeLive Wb
    Next Wb
End Sub

Sub MakeLive(ByVal Wb As Workbook)
    Dim i As Long, wasSaved As Boolean
    wasSaved = Wb.Saved
    For i = Wb.Names.Count To 1 Step -1
        RestoreArray Wb.Names(i)
    Next i
    Wb.Saved = wasSaved  ' opening the workbook did not change what the user saved
End Sub

Private Sub RestoreArray(ByVal marker As Name)
    ' A marker whose range or formula is gone (the user edited the sheet) is left alone.
    Dim kind As String, target As Range, formulaText As String
    kind = LCase$(Left$(marker.Name, Len(SPILL_PREFIX)))
    If kind <> SPILL_PREFIX And kind <> ARRAY_PREFIX Then Exit Sub
    On Error GoTo Leave
    Set target = marker.RefersToRange
    formulaText = target.Cells(1, 1).Formula
    If Left$(formulaText, 1) <> "=" Then Exit Sub
    target.ClearContents
    If kind = SPILL_PREFIX Then
        If SetDynamic(target.Cells(1, 1), formulaText) Then GoTo Done
    End If
    If Not SetFixed(target, formulaText) Then target.Cells(1, 1).Formula = formulaText
Done:
    marker.Delete
Leave:
End Sub

Private Function SetDynamic(ByVal anchor As Object, ByVal formulaText As String) As Boolean
    ' Formula2 (a dynamic array that spills) exists only in Excel with dynamic arrays: late bound.
    On Error GoTo Failed
    anchor.Formula2 = formulaText
    SetDynamic = True
Failed:
End Function

Private Function SetFixed(ByVal target As Range, ByVal formulaText As String) As Boolean
    On Error GoTo Failed
    target.FormulaArray = formulaText
    SetFixed = True
Failed:
End Function

Sub RunMonteCarlo(control As IRibbonControl)
    RunPython "import xl_var_udfs.ribbon; xl_var_udfs.ribbon.run()"
    ScheduleTick
End Sub

Sub CancelMonteCarlo(control As IRibbonControl)
    RunPython "import xl_var_udfs.ribbon; xl_var_udfs.ribbon.cancel()"
End Sub

Sub ShowSettings(control As IRibbonControl)
    RunPython "import xl_var_udfs.ribbon; xl_var_udfs.ribbon.settings()"
End Sub

Sub ShowHelp(control As IRibbonControl)
    RunPython "import xl_var_udfs.ribbon; xl_var_udfs.ribbon.show_help()"
End Sub

Sub XlVarTick()
    Dim statusLine As String, state As String
    NextTick = 0
    statusLine = ReadStatusLine()
    If statusLine = "" Then Exit Sub
    state = Split(statusLine, vbTab)(0)
    If state = "idle" Then Exit Sub
    If state = "unreadable" Then
        ' Python was replacing the file at that moment: look again at the next tick.
    ElseIf (state = "starting" Or state = "running") And StatusAge() < STALE_SECONDS Then
        Application.StatusBar = Mid$(statusLine, Len(state) + 2)
    Else
        RunPython "import xl_var_udfs.ribbon; xl_var_udfs.ribbon.poll()"
    End If
    ScheduleTick
End Sub

Private Sub ScheduleTick()
    If NextTick <> 0 Then Exit Sub
    NextTick = Now + TimeSerial(0, 0, TICK_SECONDS)
    Application.OnTime NextTick, "'" & ThisWorkbook.Name & "'!XlVarRibbon.XlVarTick"
End Sub

Private Function JobsFolder() As String
    JobsFolder = Environ("XLVAR_JOBS_DIR")
    If JobsFolder = "" Then
        #If Mac Then
            JobsFolder = Environ("TMPDIR") & "/xl-var-mc"
        #Else
            JobsFolder = Environ("TEMP") & "\xl-var-mc"
        #End If
    End If
End Function

Private Function StatusPath() As String
    #If Mac Then
        StatusPath = JobsFolder() & "/status.txt"
    #Else
        StatusPath = JobsFolder() & "\status.txt"
    #End If
End Function

Private Function StatusAge() As Double
    On Error GoTo Missing
    StatusAge = DateDiff("s", FileDateTime(StatusPath()), Now)
    Exit Function
Missing:
    StatusAge = STALE_SECONDS
End Function

Private Function ReadStatusLine() As String
    ' The status file is one UTF-8 line without a line break, replaced atomically by Python.
    ' Returns "" when there is no status file (no job) and "unreadable" when reading failed.
    Dim path As String
    path = StatusPath()
    On Error GoTo Unreadable
    If Dir(path) = "" Then Exit Function
    #If Mac Then
        Dim f As Integer
        f = FreeFile
        Open path For Input As #f
        Line Input #f, ReadStatusLine
        Close #f
    #Else
        With CreateObject("ADODB.Stream")
            .Charset = "utf-8"
            .Open
            .LoadFromFile path
            ReadStatusLine = .ReadText(-1)
            .Close
        End With
    #End If
    Exit Function
Unreadable:
    ReadStatusLine = "unreadable"
End Function
