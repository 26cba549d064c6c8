# Русский. Ключи те же, что в en.ftl (это проверяет тест).

## Pages
page-title-integration = Google Контакты
page-title-filter = Синхронизация с Google Контактами
section-accounts = Аккаунты Google
section-bindings = Синхронизируемые фильтры
section-sync = Google Контакты
section-status = Синхронизация с Google Контактами
section-options = Настройки
section-health = Контакты, требующие внимания
google-unusable = Google недоступен: { $reason }

## Accounts
col-account = Аккаунт
col-state = Состояние
account-connected = подключён
account-reconnect-needed = нужно переподключить
reconnect-warning = Google отклонил вход для { $account }. Подключите аккаунт заново; до этого его синхронизации приостановлены.
disconnect-label = Отключить { $account }
disconnect-confirm = Отключить этот аккаунт Google? Его синхронизации остановятся; ни один контакт не будет удалён.
connect-google = Подключить аккаунт Google
connect-another = Подключить ещё один аккаунт Google

## Synced filters
col-filter = Фильтр
col-group = Группа
col-direction = Направление
col-last-sync = Последняя синхронизация
col-sync = Синхронизация
filter-fallback-name = фильтр { $id }
last-sync-never = ни разу
sync-on = вкл.
sync-off = выкл.

## Activation and the enable form
activate-intro = Держите контакты этого фильтра в группе Google Контактов, в обе стороны.
activate-button = Синхронизировать этот фильтр с Google Контактами
connect-intro = Подключите аккаунт Google, в контактах которого будут контакты этого фильтра.
input-account = Аккаунт Google
view-only-note = Вы можете только просматривать контакты, поэтому фильтр синхронизируется только из CRM в Google.
enable-submit = Включить синхронизацию
input-group-mode = Группа Google
group-filter-name-choice = Группа с названием фильтра
group-existing-choice = Существующая группа
group-my-contacts = Мои контакты
input-group-name = Название существующей группы
input-group-name-help = Только для варианта «Существующая группа».
input-direction = Направление
direction-two-way-choice = В обе стороны
direction-crm-to-google = CRM → Google
direction-google-to-crm = Google → CRM
input-policy = Если контакт изменён с обеих сторон
policy-latest-choice = Побеждает последнее изменение
policy-crm-choice = Побеждает CRM
policy-google-choice = Побеждает Google
input-delete-mode = Если контакт удалён в CRM
delete-choice = Удалить его в Google
remove-choice = Только убрать его из группы
delete-help = Контакт, удалённый в Google, никогда не удаляется в CRM.
input-interval = Проверять Google каждые (минут)
input-custom-fields = Дополнительные поля
input-custom-fields-help = Ключи пользовательских полей CRM через запятую; в Google они появятся как пользовательские поля.

## The enabled panel
fact-account = Аккаунт Google
fact-group = Группа
fact-direction = Направление
fact-conflicts = Конфликты
fact-deleted = Удалённые в CRM
fact-interval = Проверка Google каждые
fact-last-sync = Последняя синхронизация
fact-last-run = Последний запуск
fact-failing = Контактов с ошибками
interval-minutes = { $count } мин
not-yet = ещё не было
reconnect-paused = Google отклонил вход для { $account }. Подключите аккаунт заново на странице интеграции; эта синхронизация приостановлена.
last-run-stopped = Последний запуск остановился: { $error }
syncing = Синхронизация
removals-held = Этот запуск удалил бы из Google сразу { $removals } из { $contacts ->
    [one] { $contacts } контакта
   *[other] { $contacts } контактов
}. Ничего не удалено: подтвердите, если так и задумано.
confirm-removals = Подтвердить удаление
confirm-removals-question = Удалить эти контакты из Google?
sync-now = Синхронизировать сейчас
turn-off = Выключить синхронизацию
turn-off-confirm = Выключить синхронизацию? Ни один контакт не будет удалён ни с одной стороны.
save-options = Сохранить настройки
col-contact = Контакт
col-reason = Причина
health-excluded = исключён
health-failing = ошибка
reason-left-in-google = Удалён в Google или убран там из группы. Он остаётся в CRM и больше не синхронизируется с этой группой.
reason-limit = Google допускает не более { $limit } контактов в аккаунте, и этот аккаунт заполнен. Удалите контакты в Google или сузьте фильтр.
reason-waiting = Ждём, пока Google покажет контакт, созданный ранее.
group-named-after = с названием фильтра
group-quoted = «{ $name }»
direction-two-way = в обе стороны
policy-latest = побеждает последнее изменение
policy-crm = побеждает CRM
policy-google = побеждает Google
deleted-in-google = удаляются в Google
removed-from-group = убираются из группы
run-counts = в Google: создано { $createdGoogle }, обновлено { $updatedGoogle }; в CRM: создано { $createdCrm }, обновлено { $updatedCrm }; удалено в Google: { $deletedGoogle }; убрано из группы: { $removed }; отвязано: { $unlinked }; конфликтов: { $conflicts }; ошибок: { $errors }
contacts-count = { $count ->
    [one] { $count } контакт
    [few] { $count } контакта
   *[many] { $count } контактов
}

## Action outcomes
outcome-disabled = Синхронизация выключена. Ни один контакт не удалён ни с одной стороны.
outcome-sync-started = Синхронизация запущена.
outcome-removals-confirmed = Подтверждено; удаление выполняется.
unknown-action = Неизвестное действие «{ $name }».
not-a-filter-id = «{ $value }» — не номер фильтра.
needs-filter = Для этого действия нужен фильтр.
continue-on-google = Продолжите на странице Google, чтобы разрешить доступ к вашим контактам.
connected = Аккаунт Google { $account } подключён.
account-not-yours = Этот аккаунт Google не подключён к вашему пользователю CRM.
disconnected = { $account } отключён. Его синхронизации выключены; ни один контакт не удалён.
choose-options = Выберите аккаунт Google и настройки, затем включите синхронизацию.
choose-account = Выберите один из подключённых аккаунтов Google (или сначала подключите аккаунт).
enabled = Синхронизация включена; первый запуск начался.
enabled-view-only = Синхронизация включена; первый запуск начался. Вы можете только просматривать контакты, поэтому синхронизация идёт только из CRM в Google.
options-saved = Настройки сохранены; запущена синхронизация с новыми настройками.
sync-not-enabled = Синхронизация для этого фильтра не включена.

## Refusals
refusal-not-saved = Фильтр не сохранён. Сохраните его, затем включите синхронизацию с Google Контактами.
refusal-not-author = Синхронизировать фильтр с Google Контактами может только его автор.
refusal-plan = Ваш тариф не включает синхронизацию с Google Контактами. Попросите администратора CRM сменить тариф.
refusal-no-permission = У вас нет доступа к контактам, поэтому синхронизировать нечего.
refusal-no-filter = Этого фильтра больше нет.
refusal-no-user = Ваш пользователь CRM не найден.
refusal-host = Не удалось получить ответ от CRM: { $reason }

## Option errors
options-not-a-choice = «{ $value }» — недопустимое значение поля «{ $what }»; выберите одно из: { $choices }.
what-direction = направление
what-policy = правило конфликтов
what-delete-mode = действие при удалении
what-group = выбор группы
options-interval = Интервал синхронизации должен быть целым числом минут от 1 до 1440, а не «{ $value }».
options-group-missing = Введите название группы Google.
options-group-too-long = Название группы слишком длинное (не более 200 символов).
options-custom-field = «{ $value }» — не ключ поля CRM: используйте буквы, цифры, «_», «-» или «.», не более 64 символов.

## Google's answers
google-not-connected = Аккаунт Google { $email } не подключён. Подключите его в настройках интеграции.
google-reconnect = Google отклонил вход для { $email } (доступ отозван или истёк). Подключите аккаунт заново в настройках интеграции.
google-scope-missing = Google не дал доступа к контактам { $email }. Подключите аккаунт заново и оставьте отмеченным доступ к контактам.
google-scope-insufficient = У подключения { $email } нет доступа к контактам. Подключите аккаунт заново в настройках интеграции и разрешите доступ к контактам.
google-consent-denied = Google не подключил аккаунт ({ $error }). Попробуйте подключить ещё раз и разрешите доступ.
google-state-unknown = Эта ссылка входа в Google неизвестна или уже использована. Начните подключение аккаунта заново.
google-state-expired = Вход в Google занял слишком много времени и истёк. Начните подключение аккаунта заново.
google-state-wrong-user = Этот вход в Google начал другой пользователь CRM. Подключите аккаунт сами.
google-token-refused = Служба входа Google отклонила запрос ({ $code }). Проверьте google.client_id и google.client_secret в настройках плагина и подключите аккаунт заново.
google-unavailable = Google недоступен или продолжал отвечать ошибкой после { $attempts } попыток ({ $detail }). Синхронизация повторится позже.

## Times
month-1 = января
month-2 = февраля
month-3 = марта
month-4 = апреля
month-5 = мая
month-6 = июня
month-7 = июля
month-8 = августа
month-9 = сентября
month-10 = октября
month-11 = ноября
month-12 = декабря
date-time = { $day } { $month } { $year } г., { $time }
ago-now = только что
ago-minutes = { $count ->
    [one] { $count } минуту назад
    [few] { $count } минуты назад
   *[many] { $count } минут назад
}
ago-hours = { $count ->
    [one] { $count } час назад
    [few] { $count } часа назад
   *[many] { $count } часов назад
}
ago-with-time = { $ago } ({ $time })

## Notices
notice-reconnect-title = Подключите { $account } к Google Контактам заново
notice-reconnect-body = Google отклонил вход для { $account }, поэтому его синхронизации приостановлены. Подключите аккаунт заново на странице интеграции с Google Контактами.
notice-held-title = Удаление из Google ждёт вашего подтверждения
notice-held-body = Синхронизация фильтра «{ $filter }» удалила бы из Google сразу { $removals } из { $contacts ->
    [one] { $contacts } контакта
   *[other] { $contacts } контактов
}. Ничего не удалено: откройте панель синхронизации фильтра и подтвердите, если так и задумано.
notice-limit-title = Достигнут предел контактов Google
notice-limit-body = Синхронизация фильтра «{ $filter }» остановлена: { $error }
notice-failing-title = { $count ->
    [one] { $count } контакт не синхронизируется больше суток
    [few] { $count } контакта не синхронизируются больше суток
   *[many] { $count } контактов не синхронизируются больше суток
}
notice-failing-body = Некоторые контакты фильтра «{ $filter }» не синхронизируются больше суток. Панель синхронизации фильтра показывает их с причиной.
notice-stale-title = Фильтр «{ $filter }» не синхронизировался больше суток
notice-stale-body = Последняя успешная синхронизация: { $when }. Откройте панель синхронизации фильтра, чтобы узнать причину.
notice-stale-never = Синхронизация включена больше суток назад и ещё ни разу не прошла успешно. Откройте панель синхронизации фильтра, чтобы узнать причину.

## Preview
section-preview = Предпросмотр
preview-button = Предпросмотр следующего запуска
input-preview-first = Сначала предпросмотр
input-preview-first-help = Посмотреть, что сделает первая синхронизация, до того как что-либо будет записано; включить её можно из предпросмотра.
preview-started = Предпросмотр строится по полному списку Google; эта страница покажет его, когда он будет готов. Ни на одной стороне ничего не записывается.
preview-running = Чтение Google для предпросмотра: пока { $listed } контактов. Ни на одной стороне ничего не записывается.
preview-failed = Предпросмотр не удался: { $error }
preview-intro = Что сделал бы запуск сейчас. Ни на одной стороне ничего не записано; если до запуска что-то изменится, запуск будет следовать тому, что будет тогда.
fact-preview-totals = Итого
fact-preview-listed = Прочитано контактов Google
fact-preview-in-filter = Контактов в фильтре
fact-preview-held = Удалений ждут вашего подтверждения
col-what = Что произойдёт
col-field = Поле
col-old = Сейчас
col-new = После запуска
preview-page = Страница { $page } из { $pages }
preview-prev = Предыдущая страница
preview-next = Следующая страница
enable-previewed = Включить как в предпросмотре
run-previewed = Синхронизировать сейчас как в предпросмотре
discard-preview = Отбросить предпросмотр
preview-discarded = Предпросмотр отброшен.
no-preview = Готового предпросмотра этого фильтра нет; сначала постройте его.
enabled-as-previewed = Синхронизация включена как в предпросмотре. Первый запуск будет следовать контактам такими, какие они будут при запуске; эта страница скажет, сделал ли он то, что показал предпросмотр.
started-as-previewed = Синхронизация запущена как в предпросмотре; эта страница скажет, сделал ли запуск то, что показал предпросмотр.
preview-kept = Запуск после предпросмотра сделал то, что показал предпросмотр.
preview-differed = Запуск после предпросмотра сделал другое, потому что контакты изменились на одной из сторон. Предпросмотр: { $preview }. Запуск: { $run }.
what-create = Создан в Google
what-match = Сопоставлен с существующим контактом Google по { $by }
match-by-crm-id = id в CRM
match-by-email = e-mail
match-by-phone = телефону
match-by-rejoined = возвращению в группу
what-update = Обновлён
what-add-to-group = Добавлен в группу
what-import = Импортирован в CRM
what-remove = Убран из группы
what-delete = Удалён в Google
what-delete-copy = Дубликат удалён в Google
what-unlink = Связь снята; CRM его сохраняет
what-excluded = Оставлен в Google (удалён или убран из группы там); CRM его сохраняет
what-refused = Не синхронизируется: { $reason }
side-google = в Google
side-crm = в CRM
change-field = { $field } { $side }
change-conflict = { $field } { $side } (изменено на обеих сторонах; решено по правилу)

## History
section-history = Последние изменения
col-when = Когда
col-side = Сторона
col-before = Было
col-after = Стало
col-why = Почему
col-run = Запуск
input-history-contact = Id контакта
input-history-side = Сторона
input-history-run = Запуск
history-any-side = Обе стороны
history-side-google = Google
history-side-crm = CRM
history-filter-submit = Показать
history-not-a-number = Контакт и запуск — числа; оставьте их пустыми, чтобы показать всё.
history-created = создан
history-matched = сопоставлен с существующим контактом
history-updated = обновлён
history-added-to-group = добавлен в группу
history-imported = импортирован
history-removed-from-group = убран из группы
history-deleted = удалён
why-edited-in-crm = изменён в CRM
why-edited-in-google = изменён в Google
why-conflict = изменён на обеих сторонах; решено по правилу
why-new-in-filter = в фильтре
why-found-in-google = найден в Google
why-added-in-google = добавлен в группу в Google
why-left-filter = вышел из фильтра или больше не виден пользователю
why-deleted-in-crm = удалён в CRM
why-duplicate = дубликат контакта, созданного плагином
col-change = Изменение
undo-run = Отменить запуск { $run }
undo-run-confirm = Вернуть то, что этот запуск изменил на обеих сторонах? Поля, изменённые с тех пор, не трогаются; ничего не удаляется.
undo-change-submit = Отменить это изменение
input-undo-change = Номер изменения
undo-started = Отмена выполняется; эта страница покажет, что сделано.
undo-running = Отмена…
undo-failed = Отмена остановилась: { $error }
undo-done = Отмена выполнена: возвращено { $restored } (следующая синхронизация перенесёт их на другую сторону), оставлено как есть { $kept }.
kept-changed-since = изменено с тех пор, оставлено
kept-gone = больше нет
kept-import = импорт: контакт CRM остаётся (отмена никогда не удаляет контакты CRM)
kept-in-filter = контакт в фильтре и остаётся синхронизированным
kept-duplicate = дубликат; не создаётся снова
history-export = Выгрузить в CSV
section-contact-history = Синхронизация с Google Контактами: история
contact-history-in-filter = Изменения, сделанные синхронизацией «{ $filter }»
contact-history-none = Синхронизация пока ничего не меняла в этом контакте.
