;;; eglot_client.el --- Emacs eglot against the flowscribe server, in batch mode -*- lexical-binding: t -*-

;; Run as: FS_PYTHON=... FS_WS=... FS_FILE=... FS_FLOW=... FS_OUT=... emacs --batch -l eglot_client.el
;; Opens FS_FILE in python-mode, connects eglot to `FS_PYTHON -m flowscribe_lsp' with the
;; workspace FS_WS as its project, waits for the server's diagnostics, asks for a hover
;; two characters into the first "FS_FLOW" string, and writes what arrived (as the server
;; sent it) to FS_OUT as JSON.  eglot computes the columns it sends itself (UTF-16 unless
;; the server and it agree on another encoding).

(require 'package)
(package-initialize)                    ; Debian's elpa-eglot lives in site-lisp/elpa
(require 'eglot)
(require 'json)

(defvar fs-result (list :errors [] :diagnostics [] :hover :null))
(defconst fs-wait 20.0)

(defun fs-done ()
  (with-temp-file (getenv "FS_OUT")
    (insert (json-encode fs-result)))
  (kill-emacs 0))

(defun fs-fail (msg)
  (setq fs-result (plist-put fs-result :errors (vconcat (plist-get fs-result :errors) (list msg))))
  (fs-done))

(defun fs-wait-for (pred)
  "Process events until PRED is non-nil or `fs-wait' seconds pass; return PRED's value."
  (let ((deadline (+ (float-time) fs-wait)) (value nil))
    (while (and (not (setq value (funcall pred))) (< (float-time) deadline))
      (accept-process-output nil 0.05))
    value))

(let* ((python (getenv "FS_PYTHON"))
       (ws (file-name-as-directory (getenv "FS_WS")))
       (file (getenv "FS_FILE"))
       (flow (getenv "FS_FLOW")))
  ;; The workspace is the project (it is no VC checkout).
  (add-hook 'project-find-functions
            (lambda (dir) (when (file-in-directory-p dir ws) (cons 'transient ws))))
  (add-to-list 'eglot-server-programs `(python-mode . (,python "-m" "flowscribe_lsp")))
  ;; Every publishDiagnostics, raw, before eglot hands it to flymake.
  (advice-add 'eglot-handle-notification :before
              (lambda (_server method &rest params)
                (when (eq method 'textDocument/publishDiagnostics)
                  (setq fs-result (plist-put fs-result :diagnostics
                                             (vconcat (plist-get fs-result :diagnostics)
                                                      (list params)))))))
  (condition-case err
      (progn
        (find-file file)
        (python-mode)
        (apply #'eglot (eglot--guess-contact)))
    (error (fs-fail (format "starting eglot: %S" err))))
  (let ((server (fs-wait-for #'eglot-current-server)))
    (unless server (fs-fail "eglot never connected"))
    (unless (fs-wait-for
             (lambda ()
               (seq-some (lambda (p)
                           (seq-some (lambda (d) (equal (plist-get d :source) "flowscribe.trace"))
                                     (plist-get p :diagnostics)))
                         (plist-get fs-result :diagnostics))))
      (fs-fail "no flowscribe.trace diagnostics"))
    ;; Point two characters into the flow id, after the non-ASCII text on its line.
    (goto-char (point-min))
    (unless (search-forward (concat "\"" flow "\"") nil t)
      (fs-fail (concat "no line names " flow)))
    (backward-char (1+ (length flow)))
    (forward-char 2)
    (let ((params (eglot--TextDocumentPositionParams)) (hover nil))
      (setq fs-result (plist-put fs-result :hover_position (plist-get params :position)))
      (fs-wait-for
       (lambda ()
         (setq hover (jsonrpc-request server :textDocument/hover params))
         (let ((value (plist-get (plist-get hover :contents) :value)))
           (or (and value (string-match-p "latest run" value))
               (progn (sleep-for 0.1) nil)))))
      (setq fs-result (plist-put fs-result :hover (or hover :null))))
    (fs-done)))

;;; eglot_client.el ends here
